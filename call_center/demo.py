"""`python -m call_center demo-data`: a populated, clearly marked sample call center for testers.

Three demo agents, a dozen customers and three weeks of calls (inbound and outbound, every outcome), the
answered ones with short real two-channel recordings (espeak-ng speech, agent left, customer right) in the
recording store. Everything is marked: agents' e-mails end in @demo.almasar.local, contacts' notes start
with [demo], calls' ids start with DEMO. It refuses a database that already holds real calls.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import av
import numpy as np
from sqlmodel import Session, col, func, select

from call_center.core.config import Settings
from call_center.models import Agent, Call, CallStatus, Contact, Direction
from call_center.models.base import utcnow
from call_center.services import agents, calls, contacts, recordings
from call_center.services.calls import ProviderEvent
from call_center.services.errors import DomainError
from call_center.telephony.local.recorder import Mp3Writer

logger = logging.getLogger(__name__)

DEMO_DOMAIN = "demo.almasar.local"
DEMO_PASSWORD = "demo-password-1"
SID_PREFIX = "DEMO"
AGENTS = [("سارة أحمد", "sara"), ("محمد علي", "mohamed"), ("منى حسن", "mona")]
CUSTOMERS = [
    ("شركة النيل للتوريدات", "+201001234501"),
    ("أحمد مصطفى", "+201001234502"),
    ("مكتبة الأهرام", "+201001234503"),
    ("هالة إبراهيم", "+201001234504"),
    ("مطعم الدلتا", "+201001234505"),
    ("كريم سامي", "+201001234506"),
    ("صيدلية الشفاء", "+201001234507"),
    ("ياسمين طارق", "+201001234508"),
    ("معرض السلام للأثاث", "+201001234509"),
    ("عمر فاروق", "+201001234510"),
    ("مخبز الريف", "+201001234511"),
    ("نادية سليم", "+201001234512"),
]
CLIPS = [
    ("مرحباً، معك سارة من شركة المسار. كيف أستطيع مساعدتك؟", "أريد أن أسأل عن موعد توصيل طلبي."),
    ("أهلاً بك، سأراجع الطلب الآن.", "رقم الطلب أربعة خمسة ستة، وكان من المفترض أن يصل أمس."),
    ("شكراً لاتصالك، هل هناك شيء آخر؟", "لا شكراً، هذا كل شيء. مع السلامة."),
]
# (status, weight) of demo calls
OUTCOMES = [
    (CallStatus.COMPLETED, 70),
    (CallStatus.NO_ANSWER, 12),
    (CallStatus.BUSY, 8),
    (CallStatus.CANCELED, 5),
    (CallStatus.FAILED, 5),
]


class DemoRefused(Exception):
    pass


def real_calls(db: Session) -> int:
    query = select(func.count()).select_from(Call).where(~col(Call.provider_call_sid).startswith(SID_PREFIX))
    return int(db.exec(query).one())


def _speak(text: str, folder: Path, name: str) -> np.ndarray:
    wav = folder / f"{name}.wav"
    subprocess.run(
        ["espeak-ng", "-v", "ar", "-s", "140", "-w", str(wav), text], check=True, capture_output=True
    )
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
    with av.open(str(wav)) as container:
        frames = [f for frame in container.decode(audio=0) for f in resampler.resample(frame)]
    return np.concatenate([f.to_ndarray()[0] for f in frames + resampler.resample(None)]).astype(np.int16)


def make_clips(folder: Path) -> list[tuple[Path, float]]:
    """Short two-channel MP3s: the agent speaks on the left, then the customer on the right."""
    if shutil.which("espeak-ng") is None:
        raise DemoRefused("demo recordings need espeak-ng: sudo apt-get install espeak-ng")
    clips = []
    for index, (agent_text, customer_text) in enumerate(CLIPS):
        agent = _speak(agent_text, folder, f"a{index}")
        customer = _speak(customer_text, folder, f"c{index}")
        gap = np.zeros(24000, dtype=np.int16)
        left = np.concatenate([agent, gap, np.zeros_like(customer), gap])
        right = np.concatenate([np.zeros_like(agent), gap, customer, gap])
        path = folder / f"clip{index}.mp3"
        writer = Mp3Writer(path)
        stereo = np.stack([left, right])
        for start in range(0, stereo.shape[1], 12000):
            writer.write(stereo[:, start : start + 12000])
        writer.close()
        clips.append((path, round(stereo.shape[1] / 48000, 2)))
    return clips


def _demo_agents(db: Session) -> list[Agent]:
    found = []
    for name, handle in AGENTS:
        email = f"{handle}@{DEMO_DOMAIN}"
        agent = db.exec(select(Agent).where(Agent.email == email)).first()
        if agent is None:
            agent = agents.create_agent(db, email=email, name=f"{name} (تجريبي)", password=DEMO_PASSWORD)
        found.append(agent)
    db.commit()
    return found


def _demo_contacts(db: Session) -> list[Contact]:
    found = []
    for name, phone in CUSTOMERS:
        contact = db.exec(select(Contact).where(Contact.phone == phone)).first()
        if contact is None:
            contact = contacts.create(db, name=name, phone=phone, notes="[demo] عميل تجريبي")
        found.append(contact)
    db.commit()
    return found


def fill(db: Session, settings: Settings, *, days: int = 21, seed: int = 7) -> dict[str, int]:
    """Create the demo data; returns what was made. DemoRefused if real calls exist."""
    if real_calls(db):
        raise DemoRefused(
            f"this database already has {real_calls(db)} real call(s); demo data goes only into a fresh "
            "install (use another DATA_DIR or DATABASE_URL)"
        )
    if db.exec(select(func.count()).select_from(Call)).one():
        raise DemoRefused("demo data is already here")
    rng = random.Random(seed)
    demo_agents, customers = _demo_agents(db), _demo_contacts(db)
    store = recordings.get_store()
    made = {"agents": len(demo_agents), "contacts": len(customers), "calls": 0, "recordings": 0}
    with tempfile.TemporaryDirectory() as tmp:
        clips = make_clips(Path(tmp))
        now = utcnow()
        for day in range(days, -1, -1):
            for _ in range(rng.randint(6, 16)):
                started = (now - timedelta(days=day)).replace(
                    hour=rng.randint(9, 17), minute=rng.randint(0, 59)
                )
                if started > now:
                    continue
                made["recordings"] += _one_call(
                    db, rng, started, demo_agents, customers, clips, store, settings
                )
                made["calls"] += 1
    return made


def _one_call(
    db: Session,
    rng: random.Random,
    started: datetime,
    demo_agents: list[Agent],
    customers: list[Contact],
    clips: list[tuple[Path, float]],
    store: recordings.LocalRecordingStore,
    settings: Settings,
) -> int:
    agent, customer = rng.choice(demo_agents), rng.choice(customers)
    inbound = rng.random() < 0.45
    status = rng.choices([s for s, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
    sid = f"{SID_PREFIX}{rng.getrandbits(64):016x}"
    call = calls.create_call(
        db,
        provider="local",
        call_sid=sid,
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        from_number=customer.phone if inbound else settings.COMPANY_NUMBER,
        to_number=settings.COMPANY_NUMBER if inbound else customer.phone,
        customer_number=customer.phone,
        agent_id=agent.id if (not inbound or status == CallStatus.COMPLETED) else None,
    )
    call.created_at = call.updated_at = started
    db.add(call)
    db.commit()
    answered = started + timedelta(seconds=rng.randint(3, 25))
    events = [
        ProviderEvent("local", sid, CallStatus.RINGING, leg="customer", at=started + timedelta(seconds=1))
    ]
    if status == CallStatus.COMPLETED:
        ended = answered + timedelta(seconds=rng.randint(20, 400))
        events += [
            ProviderEvent("local", sid, CallStatus.IN_PROGRESS, leg="customer", at=answered),
            ProviderEvent("local", sid, status, leg="customer", at=ended, reason="reason.hangup_customer"),
        ]
    else:
        reason = {CallStatus.NO_ANSWER: "reason.no_answer", CallStatus.BUSY: "reason.rejected"}.get(status)
        events.append(ProviderEvent("local", sid, status, leg="customer", at=answered, reason=reason))
    for event in events:
        calls.apply_event(db, dataclasses.replace(event, dedupe=f"{sid}:{event.status}"))
    if status != CallStatus.COMPLETED:
        return 0
    recording = recordings.start_recording(db, call)
    key = f"demo/{sid}.mp3"
    clip, seconds = rng.choice(clips)
    size = store.adopt(key, _copy(clip))
    recordings.mark_ready(db, recording, key=key, size=size, duration=seconds, channels=2)
    db.commit()
    return 1


def _copy(path: Path) -> Path:
    target = path.with_name(f"{path.stem}-{random.getrandbits(32):08x}.mp3")
    shutil.copyfile(path, target)
    return target


def run(settings: Settings, session: Session) -> int:
    """The CLI command: fill, or say clearly why not."""
    logging.getLogger("call_center").setLevel(logging.WARNING)  # one line per call would drown the summary
    try:
        made = fill(session, settings)
    except (DemoRefused, DomainError) as exc:
        print(f"demo-data refused: {exc}")
        return 1
    print(
        f"Demo data created: {made['agents']} agents (password {DEMO_PASSWORD!r}, e-mails @{DEMO_DOMAIN}), "
        f"{made['contacts']} contacts, {made['calls']} calls over three weeks, "
        f"{made['recordings']} recordings."
    )
    return 0
