"""All models, imported here so metadata and Alembic see every table."""
from db.models.base import Base, utcnow
from db.models.directory import Organisation, RoutingRule, Settlement, Theme, Topic
from db.models.items import (
    OPEN_STATUSES,
    Attachment,
    Channel,
    Item,
    ItemEvent,
    ItemKind,
    ItemMessage,
    Resolution,
    Status,
    Survey,
)
from db.models.ops import (
    AuditEntry,
    CalendarOverride,
    Counter,
    DeadlinePolicy,
    FsmRecord,
    OutboxMessage,
    OutboxPriority,
    OutboxStatus,
    ProcessedUpdate,
    Reminder,
    SettingValue,
)
from db.models.people import Citizen, Role, Staff, StaffInvite, StaffRole, StaffSession

__all__ = [
    "OPEN_STATUSES", "Attachment", "AuditEntry", "Base", "CalendarOverride", "Channel", "Citizen",
    "Counter", "DeadlinePolicy", "FsmRecord", "Item", "ItemEvent", "ItemKind", "ItemMessage",
    "Organisation", "OutboxMessage", "OutboxPriority", "OutboxStatus", "ProcessedUpdate",
    "Reminder", "Resolution", "Role", "RoutingRule", "SettingValue", "Settlement", "Staff",
    "StaffInvite", "StaffRole", "StaffSession", "Status", "Survey", "Theme", "Topic", "utcnow",
]
