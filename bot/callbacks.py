"""Button payloads (≤ 64 bytes, aiogram CallbackData); every press is re-checked by its handler."""
from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ConsentCb(CallbackData, prefix="consent"):
    agree: bool


class LangCb(CallbackData, prefix="lang"):
    code: str


class SurveyCb(CallbackData, prefix="sv"):
    """The satisfaction survey (core/surveys.py builds the first buttons as `sv:r:<survey_id>:<value>`):
    r — resolved (yes, partly, no); s — score (1–5); w — write the reason or a comment; x — not now."""

    action: str
    survey_id: int
    value: str


class ItemCb(CallbackData, prefix="it"):
    """A button on an item card (core/cards.py builds them as `it:<action>:<item_id>`)."""

    action: str
    item_id: int


class OrgCb(CallbackData, prefix="og"):
    """Triage: send the item to this organisation."""

    item_id: int
    org_id: int


class OrgPageCb(CallbackData, prefix="ogp"):
    """Triage: another page of the organisation list."""

    item_id: int
    page: int


class DraftCb(CallbackData, prefix="dr"):
    """A step of a staff or citizen draft (answer, question, comment …): done, send, edit, cancel.
    `draft` ties the button to one draft, so a stale button cannot send a newer one."""

    step: str
    draft: int


# --- the citizen's intake dialogue (bot/handlers/dialogue.py) ---------------------------------------
# `draft` ties each button to one draft item, so a button left from an earlier dialogue is refused.


class DialogCb(CallbackData, prefix="dg"):
    """back, cancel, topics, skip, done, confirm, edit_topic, edit_place, edit_files, use_name,
    use_address, continue, restart."""

    action: str
    draft: int


class KindCb(CallbackData, prefix="dk"):
    kind: str  # message, appeal
    draft: int


class TopicCb(CallbackData, prefix="dt"):
    code: str
    draft: int


class SettlementCb(CallbackData, prefix="ds"):
    settlement_id: int
    draft: int


class SettlementPageCb(CallbackData, prefix="dsp"):
    page: int
    draft: int


class MyItemCb(CallbackData, prefix="mi"):
    """/my: add (дополнить), withdraw → wyes / wno (confirm), resume (a draft), addcancel."""

    action: str
    item_id: int


# --- staff registration and import (bot/handlers/staff_new.py, staff_import.py) -----------------------


class NewCb(CallbackData, prefix="nw"):
    """`/new` (staff registration): step ch, kd, tp, st, skip, ok, cancel; value: channel, kind or id."""

    step: str
    value: str = ""


class ImportCb(CallbackData, prefix="imp"):
    """`/import`: the channel of the file to come (pos, im), or cancel."""

    channel: str


# --- /report (bot/handlers/report.py) ---------------------------------------------------------------
# The chosen period travels in the scope buttons (dates as YYYYMMDD), so a press needs no stored
# state; every press is checked again against `core.reports.scope_for`.


class ReportPeriodCb(CallbackData, prefix="rpp"):
    """today, week, month, quarter, last_month, dates (type them), cancel."""

    kind: str


class ReportScopeCb(CallbackData, prefix="rps"):
    """what: menu, all, topic, settlement, organisation, channel, period (choose another);
    value: an id or a channel code (empty: show the list); page: of a long list."""

    start: str
    end: str
    what: str
    value: str = ""
    page: int = 0
