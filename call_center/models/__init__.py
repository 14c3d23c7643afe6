"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from call_center.models.agent import Agent, AgentPublic, AgentSession, Availability, LoginAttempt, Role
from call_center.models.call import Call, CallEvent, CallPublic, CallsPublic, CallStatus, Direction
from call_center.models.contact import Contact
from call_center.models.recording import Recording, RecordingStatus

TABLES = (Agent, AgentSession, LoginAttempt, Contact, Call, CallEvent, Recording)

__all__ = [
    "TABLES",
    "Agent",
    "AgentPublic",
    "AgentSession",
    "Availability",
    "Call",
    "CallEvent",
    "CallPublic",
    "CallsPublic",
    "CallStatus",
    "Contact",
    "Direction",
    "LoginAttempt",
    "Recording",
    "RecordingStatus",
    "Role",
]
