"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from call_center.models.agent import (
    Agent,
    AgentPublic,
    AgentSession,
    AgentState,
    AgentStateSpan,
    Availability,
    AwayReason,
    LoginAttempt,
    Role,
)
from call_center.models.api_key import ApiKey
from call_center.models.call import (
    Call,
    CallDetail,
    CallEvent,
    CallPublic,
    CallsPublic,
    CallStatus,
    ChainStep,
    Direction,
    TimelineStep,
)
from call_center.models.callback import CallbackItem, CallbackReason, CallbackStatus
from call_center.models.contact import Contact
from call_center.models.disposition import DEFAULT_DISPOSITIONS, Disposition, DispositionPublic
from call_center.models.nonce import UsedNonce
from call_center.models.offer import CallOffer, OfferOutcome
from call_center.models.party import CallParty, CallTransfer, PartyKind, TransferMode, TransferState
from call_center.models.presence import DevicePresence
from call_center.models.queue import QueueEntry, QueueOutcome, QueueState
from call_center.models.recording import (
    Recording,
    RecordingAudit,
    RecordingJob,
    RecordingPublic,
    RecordingsPublic,
    RecordingStatus,
)

TABLES = (
    Agent,
    AgentSession,
    LoginAttempt,
    ApiKey,
    Contact,
    Call,
    CallEvent,
    Recording,
    RecordingJob,
    DevicePresence,
    CallOffer,
    UsedNonce,
    CallParty,
    CallTransfer,
    Disposition,
    AgentStateSpan,
    QueueEntry,
    QueueState,
    CallbackItem,
    RecordingAudit,
)

__all__ = [
    "TABLES",
    "Agent",
    "AgentPublic",
    "AgentSession",
    "AgentState",
    "AgentStateSpan",
    "AwayReason",
    "DEFAULT_DISPOSITIONS",
    "Disposition",
    "DispositionPublic",
    "ApiKey",
    "Availability",
    "Call",
    "CallEvent",
    "CallbackItem",
    "CallbackReason",
    "CallbackStatus",
    "CallOffer",
    "CallParty",
    "CallTransfer",
    "CallPublic",
    "CallsPublic",
    "ChainStep",
    "CallDetail",
    "TimelineStep",
    "CallStatus",
    "Contact",
    "DevicePresence",
    "Direction",
    "LoginAttempt",
    "OfferOutcome",
    "PartyKind",
    "TransferMode",
    "TransferState",
    "QueueEntry",
    "QueueOutcome",
    "QueueState",
    "Recording",
    "RecordingAudit",
    "RecordingJob",
    "RecordingPublic",
    "RecordingsPublic",
    "RecordingStatus",
    "Role",
    "UsedNonce",
]
