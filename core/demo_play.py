"""The demo's items, played through the services (see `core.demo.seed_demo_items` for what and why).

Each item's story is planned up front from the seed (channel, trouble, place, and its fate: on time,
late, never answered, withdrawn, rejected, misrouted, reclassified, asked a question, returned for
rework, surveyed …), then the steps of all stories run in time order from one heap, with the
lifecycle context's clock at each step's moment; before each step the reminder rows due by then
are handled as the scheduler's tick would handle them. A step only decides what happens next
(and when: office hours for staff, waking hours for citizens); the services do the rest.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import demo_data
from core.demo import DEMO_TELEGRAM_BASE, GENERAL, DemoItems
from core.routing import normalise
from db.models import (
    Channel,
    Citizen,
    Item,
    ItemKind,
    Organisation,
    OutboxMessage,
    Reminder,
    Settlement,
    Staff,
    Status,
    Survey,
    Theme,
    Topic,
)
from db.models.base import CreatedMixin

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

CHANNEL_WEIGHTS = ((Channel.bot, 45), (Channel.pos, 20), (Channel.im, 12), (Channel.phone, 12),
                   (Channel.email, 4), (Channel.visit, 4), (Channel.cur, 3))
# Who files a 59-ФЗ appeal rather than a message, by channel.
APPEAL_SHARE = {Channel.bot: 0.3, Channel.pos: 0.3, Channel.im: 0.0, Channel.phone: 0.6, Channel.email: 1.0,
                Channel.visit: 1.0, Channel.cur: 0.0}
# When citizens write, by hour of the district's day.
HOUR_WEIGHTS = (1, 1, 0, 0, 0, 1, 2, 4, 6, 7, 8, 8, 7, 7, 7, 7, 7, 8, 9, 9, 8, 6, 4, 2)
OFFICE_CHANNELS = frozenset({Channel.phone, Channel.visit, Channel.cur})


@dataclass
class _Plan:
    """One item's story, decided before the play starts (so the run is repeatable from the seed)."""

    index: int
    at: datetime  # received
    registered: datetime  # when the bot or staff register it (before `now`: every plan becomes an item)
    channel: Channel
    kind: ItemKind
    trouble: str
    settlement: str
    address: str | None
    text: str
    citizen: int | None = None  # index of a Telegram citizen (bot items)
    person: str | None = None  # the applicant's name (appeals, named callers)
    phone: str | None = None
    reply_address: str | None = None
    repeat_of: int | None = None  # plan index: the citizen writes again about it, citing its number
    duplicate_of: int | None = None  # plan index: the centre merges this one into it
    wrong_topic: bool = False  # filed under «прочее»; the centre corrects it
    misroute: str | None = None  # "official" (returned as not ours) or "centre" (redirected)
    question: bool = False
    interim: bool = False
    extension: bool = False
    rework: bool = False
    fate: str = "on_time"  # on_time, late, never, withdraw, reject
    survey: str = "silent"  # yes, partly, no, silent
    second_survey: str = "silent"  # after a reopening
    reason: bool = False  # «частично» / «нет» explained: the item is reopened
    score: bool = True
    comment: bool = False


@dataclass
class _Story:
    """A plan as it plays: the item, and what has happened to it so far."""

    plan: _Plan
    rng: random.Random
    item_id: int | None = None
    officials: dict[int, int] = field(default_factory=dict)  # organisation → the official working it
    misrouted: bool = False
    reclassified: bool = False
    asked: bool = False
    reply: str = ""
    interim_done: bool = False
    extension_done: bool = False
    reworked: bool = False
    reopened: bool = False


class Play:
    """The demo's weeks, played: plans made up front, then every step of every story in time order."""

    def __init__(self, session: AsyncSession, settings: Settings, start: datetime, end: datetime, seed: int,
                 result: DemoItems, progress: Callable[[int, int], None] | None) -> None:
        self.session = session
        self.settings = settings
        self.tz = settings.tz
        self.start = start
        self.end = end
        self.seed = seed
        self.result = result
        self.progress = progress
        self.rng = random.Random(seed)
        self.heap: list[tuple[datetime, int, int, str]] = []
        self.sequence = itertools.count()
        self.stories: list[_Story] = []
        self.item_ids: set[int] = set()
        self.first_item_id: int | None = None
        self.telegram_citizens: dict[int, int] = {}  # citizen index → Citizen.id
        self.citizen_names: list[str] = []  # by citizen index
        self.message_ids: Counter[int] = Counter()
        self.officials: dict[int, list[int]] = {}  # organisation → demo officials
        self.centre_id = 0
        self.numbers: dict[int, str] = {}  # item id → number, for the citizens who cite it
        # The session's identity map holds objects weakly: the people and the directory are kept
        # here, so the services' many `session.get` calls find them instead of loading them again.
        self.held: list[Any] = []
        self.moment = start
        self.total = 0

    # --- setting up ----------------------------------------------------------------------------------

    async def run(self, count: int) -> None:
        from core import lifecycle as lc
        from core import reminders

        session = self.session
        listener = self._stamp_created
        event.listen(session.sync_session, "before_flush", listener)
        lifecycle_log = logging.getLogger("core.lifecycle")
        lifecycle_log.addFilter(_no_triage_warning)
        try:
            self.ctx = await lc.lifecycle_context(session, self.settings, self.start)
            self.calendar = self.ctx.deadlines.calendar
            self.audience = reminders.Audience(self.ctx.options)
            await self._load_directory()
            await self._people()
            plans = self._plan(count)
            self.total = len(plans)
            for plan in plans:
                story = _Story(plan, random.Random(self.seed * 1_000_003 + plan.index))
                self.stories.append(story)
                first = "receive" if plan.channel == Channel.bot else "register"
                self._schedule(story, plan.registered, first)
            while self.heap:
                moment, _n, index, step = heapq.heappop(self.heap)
                await self._tick_until(moment)
                await self._act(moment, self.stories[index], step)
            await self._tick_until(self.end)
            await self._finish()
        finally:
            event.remove(session.sync_session, "before_flush", listener)
            lifecycle_log.removeFilter(_no_triage_warning)

    def _stamp_created(self, session: Any, _context: Any, _instances: Any) -> None:
        """Rows made in the simulated past are created then, not today (messages show their time)."""
        for obj in session.new:
            if isinstance(obj, CreatedMixin) and obj.created_at is None:
                obj.created_at = self.moment

    async def _load_directory(self) -> None:
        session = self.session
        topics = list(await session.scalars(select(Topic)))
        themes = list(await session.scalars(select(Theme).where(Theme.is_active.is_(True))))
        settlements = list(await session.scalars(select(Settlement)))
        self.held.extend([*topics, *themes, *settlements])
        self.topics = {t.code: t.id for t in topics}
        self.themes = {(t.group_name, t.name): (t.id, t.topic_id) for t in themes}
        self.settlements = {s.name: s.id for s in settlements}
        self.organisations = {o.id: o for o in await session.scalars(select(Organisation))}
        self.org_by_name = {normalise(o.name): o.id for o in self.organisations.values()}

    async def _people(self) -> None:
        """The demo officials of the demo organisations and the centre's person; all exist from the start."""
        from core.routing import add_official
        from core.staff import add_staff

        self.moment = self.start
        for org_name, people in demo_data.OFFICIALS.items():
            org_id = self.org_by_name.get(normalise(org_name))
            if org_id is None or not self.organisations[org_id].is_active:
                continue
            for name, position, login in people:
                staff = await add_official(self.session, organisation_id=org_id, name=name,
                                           email=f"{login}.demo@{demo_data.MAIL_DOMAIN}",
                                           position=position + demo_data.DEMO_POSITION_MARK, staff_id=None,
                                           now=self.start)
                self.officials.setdefault(org_id, []).append(staff.id)
                self.held.append(staff)
        # No role: a demo person holding the curator's role would take the place of the real ones
        # (notifications go to the first role anybody holds) and hide the fallback to the head.
        name, position = demo_data.CENTRE_PERSON
        centre, _created = await add_staff(self.session, telegram_id=None, roles=(), name=name)
        centre.position = position
        self.centre_id = centre.id
        self.held.append(centre)
        self.result.officials = sum(len(v) for v in self.officials.values())

    async def _official_of(self, story: _Story, org_id: int) -> Staff:
        """The official who works the item at this organisation (one per organisation and story)."""
        from core.routing import add_official

        if org_id not in self.officials:
            # An organisation of the district's own (not a demo one) that the rules send items to.
            staff = await add_official(self.session, organisation_id=org_id, name="Исполнитель Демо",
                                       email=f"org{org_id}.demo@{demo_data.MAIL_DOMAIN}",
                                       position="исполнитель" + demo_data.DEMO_POSITION_MARK, staff_id=None,
                                       now=self.ctx.now)
            self.officials[org_id] = [staff.id]
            self.held.append(staff)
            self.result.officials += 1
        if org_id not in story.officials:
            story.officials[org_id] = story.rng.choice(self.officials[org_id])
        staff = await self.session.get(Staff, story.officials[org_id])
        assert staff is not None
        return staff

    async def _centre(self) -> Staff:
        staff = await self.session.get(Staff, self.centre_id)
        assert staff is not None
        return staff

    # --- the plans -----------------------------------------------------------------------------------

    def _plan(self, count: int) -> list[_Plan]:
        rng = self.rng
        plans: list[_Plan] = []
        # The problems: one trouble in one place reported again and again, lately — within this
        # month when it is old enough, so "this month" shows them.
        scale = count / 300
        cluster_budget = count // 3
        window = self._problem_window()
        for cluster in demo_data.CLUSTERS:
            size = min(max(2, round(cluster.size * scale)), cluster_budget)
            if size < 2:
                break
            cluster_budget -= size
            span = min(timedelta(days=cluster.span_days), window)
            anchor = self.end - window + (window - span) * rng.random()
            members: list[_Plan] = []
            for n in range(size):
                # The first two through staff, who also pick the theme: the problem's key (theme ×
                # settlement × street) is theirs; the bot's items (topic only) make a group of their own.
                channel = rng.choice((Channel.pos, Channel.phone) if n < 2 else
                                     (Channel.bot, Channel.bot, Channel.pos, Channel.phone, Channel.im))
                at = self._daytime(anchor + span * rng.random(), channel)
                house = rng.randint(3, 24)
                plan = self._new_plan(len(plans), at, channel, cluster.trouble, cluster.settlement,
                                      f"{demo_data.SETTLEMENT_KIND[cluster.settlement]} {cluster.settlement}, "
                                      f"{cluster.street}, д. {house}")
                self._give_citizen(plan, reuse=False)
                plans.append(plan)
                members.append(plan)
            members.sort(key=lambda p: p.at)
            for plan in members[1:]:
                if rng.random() < 0.25:
                    plan.duplicate_of = members[0].index
        follow_ups = round(count * 0.04)
        while len(plans) < count - follow_ups:
            plans.append(self._random_plan(plans))
        # Repeats: a citizen writes again about an earlier item of theirs, citing its number.
        parents = [p for p in plans if p.channel == Channel.bot and p.fate in ("on_time", "late")
                   and p.at < self.end - timedelta(days=8) and p.duplicate_of is None]
        while len(plans) < count and parents:
            parent = parents.pop(rng.randrange(len(parents)))
            at = parent.at + timedelta(days=rng.uniform(7, 20))
            if at >= self.end - timedelta(hours=1):
                continue
            plan = self._new_plan(len(plans), self._daytime(at, Channel.bot), Channel.bot, parent.trouble,
                                  parent.settlement, parent.address)
            plan.citizen, plan.repeat_of, plan.kind = parent.citizen, parent.index, parent.kind
            plan.person, plan.reply_address = parent.person, parent.reply_address
            plan.wrong_topic, plan.misroute = False, None
            plans.append(plan)
        while len(plans) < count:  # repeats that would have come after `now`
            plans.append(self._random_plan(plans))
        self.result.citizens = len(self.citizen_names)
        return plans

    def _problem_window(self) -> timedelta:
        """The last 20 days, or from the 1st of this month when that leaves at least a week."""
        month_start = datetime.combine(self.end.astimezone(self.tz).date().replace(day=1), time(), tzinfo=self.tz)
        window = timedelta(days=20)
        if self.end - month_start >= timedelta(days=7):
            window = min(window, self.end - month_start)
        return min(window, self.end - self.start)

    def _give_citizen(self, plan: _Plan, *, reuse: bool) -> None:
        """A bot item's Telegram citizen: a new one, or (`reuse`) now and then one who wrote before."""
        if plan.citizen is None:
            return
        if reuse and self.citizen_names and self.rng.random() < 0.15:
            plan.citizen = self.rng.randrange(len(self.citizen_names))
        else:
            plan.citizen = len(self.citizen_names)
            self.citizen_names.append(plan.person or self._person())
        if plan.person is not None:
            plan.person = self.citizen_names[plan.citizen]

    def _random_plan(self, plans: list[_Plan]) -> _Plan:
        """Any trouble, anywhere, through any channel, at any time of the period."""
        rng = self.rng
        channel = rng.choices([c for c, _w in CHANNEL_WEIGHTS], [w for _c, w in CHANNEL_WEIGHTS])[0]
        troubles = list(demo_data.TROUBLES)
        trouble = rng.choices(troubles, [demo_data.TROUBLES[k].weight for k in troubles])[0]
        places = list(demo_data.SETTLEMENTS)
        settlement = rng.choices(places, [demo_data.SETTLEMENTS[k][1] for k in places])[0]
        plan = self._new_plan(len(plans), self._moment(channel), channel, trouble, settlement,
                              self._address(settlement) if demo_data.TROUBLES[trouble].place else None)
        self._give_citizen(plan, reuse=True)
        return plan

    def _new_plan(self, index: int, at: datetime, channel: Channel, trouble_key: str, settlement: str,
                  address: str | None) -> _Plan:
        rng = self.rng
        trouble = demo_data.TROUBLES[trouble_key]
        kind = ItemKind.appeal if rng.random() < APPEAL_SHARE[channel] else ItemKind.message
        text = rng.choice(trouble.texts)
        if channel == Channel.im:
            text = f"{rng.choice(demo_data.IM_SOURCES)}: «{text}»"
        registered = self._registration_moment(at, channel)
        if registered >= self.end:  # an export or a letter of the last hours: registered just now
            registered = self.end - timedelta(minutes=rng.uniform(5, 30))
            at = min(at, registered - timedelta(minutes=3))
        plan = _Plan(index=index, at=at, registered=registered, channel=channel, kind=kind, trouble=trouble_key,
                     settlement=settlement, address=address, text=text)
        if channel == Channel.bot:
            plan.citizen = -1  # a Telegram citizen; the index is given by the caller
        if kind == ItemKind.appeal or (channel == Channel.phone and rng.random() < 0.7) or \
                (channel == Channel.pos and rng.random() < 0.5):
            plan.person = self._person()
        if kind == ItemKind.appeal:
            plan.reply_address = self._address(settlement, flat=True)
        if channel in (Channel.phone, Channel.visit):
            plan.phone = f"+7900000{rng.randint(0, 9999):04d}"
        roll = rng.random()
        plan.fate = ("reject" if roll < 0.015 else "withdraw" if roll < 0.035 and channel == Channel.bot
                     else "never" if roll < 0.09 else "late" if roll < 0.22 else "on_time")
        plan.wrong_topic = trouble.topic != "other" and rng.random() < 0.06
        if not plan.wrong_topic and rng.random() < 0.07:
            plan.misroute = "official" if rng.random() < 0.6 else "centre"
        plan.question = channel == Channel.bot and rng.random() < 0.15
        plan.interim = kind == ItemKind.appeal and rng.random() < 0.2
        plan.extension = kind == ItemKind.appeal and plan.fate == "on_time" and rng.random() < 0.1
        plan.rework = rng.random() < 0.08
        plan.survey = rng.choices(("yes", "partly", "no", "silent"), (58, 12, 14, 16))[0]
        plan.second_survey = rng.choices(("yes", "no", "silent"), (55, 15, 30))[0]
        plan.reason = rng.random() < 0.75
        plan.score = rng.random() < 0.85
        plan.comment = rng.random() < 0.2
        return plan

    def _person(self) -> str:
        rng = self.rng
        male = rng.random() < 0.45
        surname = rng.choice(demo_data.MALE_SURNAMES)
        patronymic = rng.choice(demo_data.PATRONYMIC_ROOTS)[0 if male else 1]
        if male:
            return f"{surname} {rng.choice(demo_data.MALE_NAMES)} {patronymic}"
        return f"{surname}а {rng.choice(demo_data.FEMALE_NAMES)} {patronymic}"

    def _address(self, settlement: str, *, flat: bool = False) -> str:
        rng = self.rng
        streets = demo_data.SETTLEMENTS[settlement][0]
        place = f"{demo_data.SETTLEMENT_KIND[settlement]} {settlement}"
        if not streets:
            return f"{place}, д. {rng.randint(1, 60)}"
        house = f"{place}, {rng.choice(streets)}, д. {rng.randint(1, 45)}"
        return f"{house}, кв. {rng.randint(1, 40)}" if flat and rng.random() < 0.6 else house

    def _moment(self, channel: Channel) -> datetime:
        """When an item came in: more lately (the bot is catching on), by the hours people write."""
        rng = self.rng
        while True:
            x = rng.random()
            if rng.random() > (0.7 + 0.6 * x) / 1.3:
                continue
            at = self._daytime(self.start + (self.end - self.start) * x, channel)
            if self.start <= at < self.end - timedelta(minutes=10):
                return at

    def _daytime(self, at: datetime, channel: Channel) -> datetime:
        """`at`'s day at an hour people write in that channel (office hours for calls and visits)."""
        rng = self.rng
        day = at.astimezone(self.tz).date()
        if channel in OFFICE_CHANNELS:
            day = self.calendar.next_working_day(day, include=True)
            minutes = rng.randint(9 * 60, 17 * 60 + 30)
        else:
            minutes = rng.choices(range(24), HOUR_WEIGHTS)[0] * 60 + rng.randint(0, 59)
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)
        moment = local.astimezone(UTC)
        return min(moment, self.end - timedelta(minutes=rng.randint(10, 90)))

    def _registration_moment(self, at: datetime, channel: Channel) -> datetime:
        """When the centre registers it: the bot at once; calls while on the line; exports and mail later."""
        rng = self.rng
        if channel == Channel.bot:
            return at
        if channel in (Channel.phone, Channel.visit):
            return at + timedelta(minutes=rng.randint(3, 15))
        hours = {Channel.im: (0.1, 1.5), Channel.cur: (0.1, 1.5), Channel.pos: (0.2, 4)}.get(channel, (0.3, 6))
        return self.calendar.add_working_hours(at, rng.uniform(*hours))

    # --- the play ------------------------------------------------------------------------------------

    def _schedule(self, story: _Story, moment: datetime, step: str) -> None:
        """A step of the story at `moment`; what would happen after `now` does not happen (yet)."""
        if moment < self.end:
            heapq.heappush(self.heap, (moment, next(self.sequence), story.plan.index, step))

    def _work(self, story: _Story, after: datetime, low: float, high: float) -> datetime:
        """Some office hours after `after`: when staff get to it."""
        return self.calendar.add_working_hours(after, story.rng.uniform(low, high))

    def _citizen_time(self, story: _Story, after: datetime, low: float, high: float) -> datetime:
        """Some hours after `after`, not in the middle of the night."""
        rng = story.rng
        moment = (after + timedelta(hours=rng.uniform(low, high))).astimezone(self.tz)
        if moment.hour < 7 or moment.hour >= 23:
            day = moment.date() + timedelta(days=1 if moment.hour >= 23 else 0)
            moment = datetime.combine(day, time(7 + rng.randint(0, 2), rng.randint(0, 59)), tzinfo=self.tz)
        return moment.astimezone(UTC)

    async def _act(self, moment: datetime, story: _Story, step: str) -> None:
        from core.lifecycle import TransitionError

        self.moment = self.ctx.now = moment
        # No savepoint around a step: the services check that a change is legal before they make
        # it, so a refused step changes nothing, and savepoints cost a third of the run.
        try:
            await getattr(self, f"_step_{step}")(story)
        except TransitionError as err:
            self.result.refused += 1
            log.warning("demo item %s: step %s refused: %s", story.plan.index, step, err.message)

    async def _tick_until(self, moment: datetime) -> None:
        """The reminder tick (scheduler/ticks.py) at every moment a demo item's row falls due up to
        `moment`: the same claim, the same `process_claimed`, only limited to the demo's items."""
        from core import reminders

        if self.first_item_id is None:
            return
        while True:
            rows = [r for r in await self.session.execute(
                select(Reminder.id, Reminder.item_id, Reminder.due_at)
                .where(Reminder.status == "pending", Reminder.due_at <= moment,
                       Reminder.item_id >= self.first_item_id)
                .order_by(Reminder.due_at, Reminder.id)) if r.item_id in self.item_ids]
            if not rows:
                return
            due = rows[0].due_at
            ids = [r.id for r in rows if r.due_at == due]
            self.moment = self.ctx.now = due
            await self.session.execute(
                update(Reminder).where(Reminder.id.in_(ids), Reminder.status == "pending")
                .values(status="claimed", claimed_at=due).execution_options(synchronize_session=False))
            await reminders.process_claimed(self.ctx, ids, due, self.audience)

    async def _item(self, story: _Story) -> Item:
        """The story's item: the one object every service of this session changes (held, so no
        query; nobody else writes to it inside this transaction, so it is current)."""
        assert story.item_id is not None
        item = await self.session.get(Item, story.item_id)
        assert item is not None
        return item

    async def _citizen(self, story: _Story) -> Citizen:
        """The story's Telegram citizen, who first writes (and agrees to the processing) now."""
        from core.citizens import TelegramProfile, get_or_create_citizen, give_consent

        index = story.plan.citizen
        assert index is not None
        if index in self.telegram_citizens:
            citizen = await self.session.get(Citizen, self.telegram_citizens[index])
            assert citizen is not None
            return citizen
        name = self.citizen_names[index].split()
        citizen = await get_or_create_citizen(self.session, TelegramProfile(
            telegram_id=DEMO_TELEGRAM_BASE + index, first_name=name[1], last_name=name[0], language_code="ru"))
        give_consent(citizen, self.ctx.now)
        await self.session.flush()
        self.telegram_citizens[index] = citizen.id
        self.held.append(citizen)
        return citizen

    async def _item_citizen(self, item: Item) -> Citizen | None:
        return None if item.citizen_id is None else await self.session.get(Citizen, item.citizen_id)

    def _created(self, item: Item) -> None:
        self.held.append(item)
        self.item_ids.add(item.id)
        self.result.item_ids.append(item.id)
        if self.first_item_id is None or item.id < self.first_item_id:
            self.first_item_id = item.id
        self.result.created += 1
        if self.progress is not None:
            self.progress(self.result.created, self.total)

    def _text(self, story: _Story) -> str:
        plan = story.plan
        if plan.repeat_of is None:
            return plan.text
        parent = self.stories[plan.repeat_of]
        number = self.numbers.get(parent.item_id or 0)
        return demo_data.REPEAT_TEXT.format(number=number, text=plan.text) if number else plan.text

    def _keys(self, story: _Story, *, filed: bool) -> tuple[int | None, int | None]:
        """(topic, theme) as filed (a wrong topic: «прочее») or as they should be. The bot asks the
        topic only; staff registering an export or a call also pick the theme."""
        plan = story.plan
        trouble = demo_data.TROUBLES[plan.trouble]
        if filed and plan.wrong_topic:
            return self.topics.get("other"), None
        theme = self.themes.get(trouble.theme) if trouble.theme else None
        if plan.channel == Channel.bot or theme is None:
            return self.topics.get(trouble.topic), None
        return theme[1], theme[0]

    # --- the steps: intake ---------------------------------------------------------------------------

    async def _step_receive(self, story: _Story) -> None:
        """The citizen writes to the bot: a draft, filled in by the dialogue."""
        from core.intake import (
            Incoming,
            ReplyAddress,
            receive_bot_message,
            set_applicant,
            set_kind,
            set_reply_address,
        )

        plan = story.plan
        citizen = await self._citizen(story)
        assert citizen.telegram_id is not None
        self.message_ids[citizen.id] += 1
        incoming = Incoming(text=self._text(story), tg_chat_id=citizen.telegram_id,
                            tg_message_id=self.message_ids[citizen.id])
        item = (await receive_bot_message(self.session, citizen, incoming, self.ctx.now, self.tz)).item
        set_kind(item, plan.kind)
        item.topic_id = self._keys(story, filed=True)[0]
        item.settlement_id = self.settlements.get(plan.settlement)
        item.address = plan.address
        if plan.kind == ItemKind.appeal:
            assert plan.reply_address is not None
            set_applicant(item, citizen, plan.person or f"{citizen.last_name} {citizen.first_name}")
            set_reply_address(item, citizen, ReplyAddress("postal", plan.reply_address))
        story.item_id = item.id
        self._created(item)
        self._schedule(story, self.ctx.now + timedelta(minutes=story.rng.uniform(2, 8)), "confirm")

    async def _step_confirm(self, story: _Story) -> None:
        from core.intake import confirm_draft

        item = await self._item(story)
        citizen = await self._item_citizen(item)
        assert citizen is not None
        await confirm_draft(self.ctx, item, citizen)
        self.numbers[item.id] = item.number
        self._registered(story, item)

    async def _step_register(self, story: _Story) -> None:
        """Staff register a call, a visit, a letter, or an item of the ПОС / «Инцидент менеджмент» export."""
        from core.lifecycle import after_registration
        from core.registration import register_staff_item

        plan = story.plan
        topic_id, theme_id = self._keys(story, filed=True)
        external = {Channel.pos: "ПОС", Channel.im: "ИМ"}.get(plan.channel)
        item = await register_staff_item(
            self.session, channel=plan.channel, kind=plan.kind, text=self._text(story), received_at=plan.at,
            staff_id=self.centre_id, now=self.ctx.now, tz=self.tz, deadlines=self.ctx.deadlines,
            topic_id=topic_id, theme_id=theme_id, settlement_id=self.settlements.get(plan.settlement),
            address=plan.address, applicant_name=plan.person, reply_address=plan.reply_address, phone=plan.phone,
            external_id=f"ДЕМО-{external}-{plan.index + 1:05d}" if external else None,
            registered_at=plan.at if external else None)
        story.item_id = item.id
        self._created(item)
        self.numbers[item.id] = item.number
        if item.citizen_id is not None:
            self.held.append(await self.session.get(Citizen, item.citizen_id))
        await after_registration(self.ctx, item)
        self._registered(story, item)

    def _registered(self, story: _Story, item: Item) -> None:
        if item.status == Status.registered:
            low, high = (0.1, 1) if story.plan.channel == Channel.im else (0.3, 5)
            self._schedule(story, self._work(story, self.ctx.now, low, high), "triage")
        elif item.status == Status.assigned:  # auto-routing took it
            self._schedule(story, self._work(story, self.ctx.now, 0.3, 6), "accept")

    # --- routing ---------------------------------------------------------------------------------------

    async def _route(self, item: Item) -> int | None:
        """Where the rules send it (as the triage card suggests), else the general department."""
        from core.routing import suggest_route

        suggestion = await suggest_route(self.session, item)
        for org_id in suggestion.organisation_ids:
            if self.organisations[org_id].is_active:
                return org_id
        general = self.org_by_name.get(normalise(GENERAL))
        return general if general is not None and self.organisations[general].is_active else None

    def _wrong_organisation(self, story: _Story, right: int) -> int | None:
        """A plausible mistake: water to the housing department, housing to the roads one, else general."""
        names = {"МУП «Водоканал»": "Отдел ЖКХ и благоустройства",
                 "Отдел ЖКХ и благоустройства": "Отдел дорожного хозяйства и транспорта"}
        wrong = self.org_by_name.get(normalise(names.get(self.organisations[right].name, GENERAL)))
        if wrong is None or wrong == right or not self.organisations[wrong].is_active:
            others = [o.id for o in self.organisations.values() if o.is_active and o.id != right]
            return story.rng.choice(others) if others else None
        return wrong

    async def _step_triage(self, story: _Story) -> None:
        """The centre sorts it: rejects, merges a duplicate, corrects the topic, sends it on."""
        from core import lifecycle as lc
        from core.actors import Actor

        plan = story.plan
        item = await self._item(story)
        if item.status != Status.registered:
            return
        centre = await self._centre()
        actor = Actor.staff(centre.id)
        if plan.fate == "reject":
            await lc.reject(self.ctx, item, centre, story.rng.choice(demo_data.REJECT_REASONS))
            return
        if plan.duplicate_of is not None and await self._merge(story, item, centre):
            return
        if plan.wrong_topic and not story.reclassified:
            topic_id, theme_id = self._keys(story, filed=False)
            if plan.channel == Channel.bot:
                await lc.change_classification(self.ctx, item, actor, topic_id=topic_id)
            else:
                await lc.change_classification(self.ctx, item, actor, topic_id=topic_id, theme_id=theme_id)
            story.reclassified = True
        right = await self._route(item)
        if right is None:
            return  # nothing to send it to: it waits in the queue
        target = right
        if plan.misroute and not story.misrouted:
            target = self._wrong_organisation(story, right) or right
            story.misrouted = True
        await lc.assign(self.ctx, item, target, actor)
        if target == right:
            self._schedule(story, self._accept_moment(story), "accept")
        elif plan.misroute == "official":
            self._schedule(story, self._work(story, self.ctx.now, 0.5, 8), "not_ours")
        else:
            self._schedule(story, self._work(story, self.ctx.now, 1, 12), "redirect")

    async def _merge(self, story: _Story, item: Item, centre: Staff) -> bool:
        from core import lifecycle as lc

        plan = story.plan
        assert plan.duplicate_of is not None
        main_id = self.stories[plan.duplicate_of].item_id
        main = None if main_id is None else await lc.load_item(self.session, main_id)
        if main is None or Status(main.status) in lc.FINAL or main.status == Status.received \
                or main.resolution == lc.DUPLICATE:
            return False
        await lc.merge_duplicate(self.ctx, item, main, centre, "Та же проблема, что и в № " + main.number)
        return True

    async def _step_not_ours(self, story: _Story) -> None:
        from core import lifecycle as lc

        item = await self._item(story)
        if item.organisation_id is None or item.status not in (Status.assigned, Status.in_work):
            return
        official = await self._official_of(story, item.organisation_id)
        await lc.return_not_ours(self.ctx, item, official, story.rng.choice(demo_data.NOT_OURS))
        self._schedule(story, self._work(story, self.ctx.now, 0.3, 4), "triage")

    async def _step_redirect(self, story: _Story) -> None:
        """The centre sees the item went to the wrong place and sends it on (a redirect)."""
        from core import lifecycle as lc
        from core.actors import Actor

        item = await self._item(story)
        if item.status not in (Status.assigned, Status.in_work):
            return
        right = await self._route(item)
        if right is None or right == item.organisation_id:
            return
        await lc.assign(self.ctx, item, right, Actor.staff(self.centre_id), comment="не по адресу")
        self._schedule(story, self._accept_moment(story), "accept")

    def _accept_moment(self, story: _Story) -> datetime:
        if story.plan.channel == Channel.im:
            return self._work(story, self.ctx.now, 0.1, 1.5)
        slow = story.rng.random() < 0.1
        return self._work(story, self.ctx.now, *((10, 30) if slow else (0.3, 8)))

    # --- the recipient's work ------------------------------------------------------------------------

    async def _step_accept(self, story: _Story) -> None:
        from core import lifecycle as lc

        plan = story.plan
        item = await self._item(story)
        if item.organisation_id is None or item.status not in (Status.assigned, Status.returned, Status.reopened):
            return
        await lc.accept(self.ctx, item, await self._official_of(story, item.organisation_id))
        if plan.fate == "withdraw":
            self._schedule(story, self._citizen_time(story, self.ctx.now, 3, 72), "withdraw")
        elif plan.question and not story.asked:
            self._schedule(story, self._work(story, self.ctx.now, 0.5, 8), "question")
        else:
            await self._plan_answer(story, item)

    async def _plan_answer(self, story: _Story, item: Item) -> None:
        """What the official does next: an interim answer, an extension, then the answer (or never)."""
        plan = story.plan
        now = self.ctx.now
        if plan.interim and not story.interim_done:
            self._schedule(story, self._work(story, now, 2, 20), "interim")
            return
        if plan.extension and not story.extension_done and not item.extended and item.due_answer_at is not None \
                and self.ctx.deadlines.book.durations_of(item).extension is not None:
            self._schedule(story, self._within_term(story, item, 0.5, 0.75), "extension")
            return
        if plan.fate == "never":
            return
        if plan.fate == "late" or item.due_answer_at is None or item.due_answer_at <= now + timedelta(minutes=30):
            due = max(item.due_answer_at or now, now)
            high = 6 if plan.channel == Channel.im else 60
            self._schedule(story, self._work(story, due, 0.5, high), "answer")
        else:
            self._schedule(story, self._within_term(story, item, 0.1, 0.8), "answer")

    def _within_term(self, story: _Story, item: Item, low: float, high: float) -> datetime:
        """A moment at this share of the office time left until the answer deadline."""
        from core.reminders import office_time_between

        assert item.due_answer_at is not None
        left = office_time_between(self.calendar, self.ctx.now, item.due_answer_at).total_seconds() / 3600
        return self.calendar.add_working_hours(self.ctx.now, max(0.25, story.rng.uniform(low, high) * left))

    async def _step_question(self, story: _Story) -> None:
        from core import lifecycle as lc

        item = await self._item(story)
        if item.organisation_id is None or Status(item.status) not in lc.WORKING:
            return
        questions = demo_data.TROUBLES[story.plan.trouble].questions + demo_data.GENERIC_QUESTIONS
        question, story.reply = story.rng.choice(questions)
        await lc.ask_citizen(self.ctx, item, await self._official_of(story, item.organisation_id), question)
        story.asked = True
        self._schedule(story, self._citizen_time(story, self.ctx.now, 0.3, 26), "reply")

    async def _step_reply(self, story: _Story) -> None:
        from core import lifecycle as lc

        item = await self._item(story)
        citizen = await self._item_citizen(item)
        if citizen is None or Status(item.status) in lc.FINAL:
            return
        await lc.citizen_reply(self.ctx, item, citizen, story.reply)
        await self._plan_answer(story, item)

    async def _step_interim(self, story: _Story) -> None:
        from core import lifecycle as lc

        item = await self._item(story)
        story.interim_done = True
        if item.organisation_id is None or Status(item.status) not in lc.WORKING:
            return
        await lc.interim_answer(self.ctx, item, await self._official_of(story, item.organisation_id),
                                story.rng.choice(demo_data.INTERIM_ANSWERS))
        await self._plan_answer(story, item)

    async def _step_extension(self, story: _Story) -> None:
        from core import lifecycle as lc

        item = await self._item(story)
        story.extension_done = True
        if item.organisation_id is None or Status(item.status) not in lc.WORKING:
            return
        await lc.request_extension(self.ctx, item, await self._official_of(story, item.organisation_id),
                                   story.rng.choice(demo_data.EXTENSION_REASONS))
        self._schedule(story, self._work(story, self.ctx.now, 1, 8), "extension_decision")

    async def _step_extension_decision(self, story: _Story) -> None:
        from core import lifecycle as lc

        item = await self._item(story)
        if item.extension_requested_at is None:
            return
        await lc.decide_extension(self.ctx, item, await self._centre(), True)
        await self._plan_answer(story, item)

    async def _step_withdraw(self, story: _Story) -> None:
        from core import lifecycle as lc

        item = await self._item(story)
        citizen = await self._item_citizen(item)
        if citizen is None or Status.withdrawn not in lc.TRANSITIONS[Status(item.status)]:
            return
        await lc.withdraw(self.ctx, item, citizen)

    async def _step_answer(self, story: _Story) -> None:
        from core import lifecycle as lc

        item = await self._item(story)
        if item.organisation_id is None or Status(item.status) not in lc.WORKING:
            return
        official = await self._official_of(story, item.organisation_id)
        text = story.rng.choice(demo_data.TROUBLES[story.plan.trouble].answers)
        if item.status == Status.returned:
            text += f" Срок выполнения — до конца месяца, контроль — {official.name}."
        elif story.reopened:
            text = "Проведён повторный выезд на место. " + text
        await lc.answer(self.ctx, item, official, text)
        if item.status == Status.under_review:
            self._schedule(story, self._work(story, self.ctx.now, 0.3, 6), "review")
        elif item.status == Status.delivered:
            await self._delivered(story, item)

    async def _step_review(self, story: _Story) -> None:
        from core import lifecycle as lc

        item = await self._item(story)
        if item.status != Status.under_review:
            return
        centre = await self._centre()
        if story.plan.rework and not story.reworked:
            story.reworked = True
            await lc.return_for_rework(self.ctx, item, centre, story.rng.choice(demo_data.REWORK_COMMENTS))
            self._schedule(story, self._work(story, self.ctx.now, 1, 12), "answer")
            return
        await lc.approve(self.ctx, item, centre)
        await self._delivered(story, item)

    # --- the survey --------------------------------------------------------------------------------------

    async def _delivered(self, story: _Story, item: Item) -> None:
        """The answer reached the citizen; the tick sends the survey; maybe they answer it."""
        survey = await self.session.scalar(
            select(Survey).where(Survey.item_id == item.id, Survey.status == "planned")
            .order_by(Survey.id.desc()).limit(1))
        citizen = await self._item_citizen(item)
        if survey is None or survey.send_at is None or citizen is None or citizen.telegram_id is None:
            return  # no Telegram: the tick skips the survey and closes the item in a week
        if (story.plan.second_survey if story.reopened else story.plan.survey) == "silent":
            return
        rng = story.rng
        low, high = (0.1, 6) if rng.random() < 0.7 else (6, 60)
        self._schedule(story, self._citizen_time(story, survey.send_at, low, high), "survey")

    async def _step_survey(self, story: _Story) -> None:
        from core import surveys

        plan = story.plan
        item = await self._item(story)
        citizen = await self._item_citizen(item)
        survey = await self.session.scalar(
            select(Survey).where(Survey.item_id == item.id, Survey.status == "sent")
            .order_by(Survey.id.desc()).limit(1))
        if survey is None or citizen is None:
            return
        value = plan.second_survey if story.reopened else plan.survey
        await surveys.answer_resolved(self.ctx, survey.id, citizen, value)
        rng = story.rng
        reopens = value in surveys.UNRESOLVED and plan.reason and not story.reopened
        if reopens:
            await surveys.give_reason(self.ctx, survey.id, citizen, rng.choice(demo_data.REOPEN_REASONS))
            story.reopened = True
        if plan.score:
            score = {"yes": rng.choice((4, 5, 5)), "partly": 3}.get(value, rng.choice((1, 2)))
            await surveys.give_score(self.ctx, survey.id, citizen, score)
        if plan.comment and not reopens:
            await surveys.give_comment(self.ctx, survey.id, citizen, rng.choice(demo_data.SURVEY_COMMENTS))
        if reopens:
            self._schedule(story, self._work(story, self.ctx.now, 4, 40), "answer")

    # --- the end ---------------------------------------------------------------------------------------------

    async def _finish(self) -> None:
        """Count what came out, drop the simulated past's outbox rows, detach the demo citizens."""
        from core.reminders import AWAITING_ANSWER

        session = self.session
        self.moment = self.ctx.now = self.end
        ids = sorted(self.item_ids)
        for chunk in _chunks(ids):
            for status, due, paused in await session.execute(
                    select(Item.status, Item.due_answer_at, Item.paused_since).where(Item.id.in_(chunk))):
                self.result.statuses[status] += 1
                if Status(status) in AWAITING_ANSWER and due is not None and due < self.end and paused is None:
                    self.result.overdue += 1
            await session.execute(delete(OutboxMessage).where(OutboxMessage.item_id.in_(chunk)))
        for citizen_id in self.telegram_citizens.values():
            citizen = await session.get(Citizen, citizen_id)
            assert citizen is not None
            citizen.telegram_id = None
        await session.flush()


def _no_triage_warning(record: logging.LogRecord) -> bool:
    """A fresh demo database has no centre staff yet: «nobody holds a triage role» would be logged
    for every item of the simulated past, whose notifications are dropped anyway."""
    return not str(record.msg).startswith("item %s: nobody holds a triage role")


def _chunks(values: list[int], size: int = 500) -> Iterator[list[int]]:
    for offset in range(0, len(values), size):
        yield values[offset:offset + size]
