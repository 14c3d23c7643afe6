"""The Reflex app: the API under Reflex's own routes, the page guard, and the pages. Nothing else."""

import warnings

import reflex as rx

from call_center.api.app import ForwardedScheme, PageGuard, app_lifespan, create_api
from call_center.components.frame import app_frame
from call_center.components.history import history_body
from call_center.core.config import get_settings
from call_center.core.logging import setup_logging
from call_center.models import TABLES
from call_center.pages.account import account_body
from call_center.pages.call_center import call_center_body
from call_center.pages.contacts import contacts_body
from call_center.pages.login import LoginState, login_page
from call_center.pages.phone import phone_body
from call_center.pages.reports import reports_body
from call_center.pages.settings import settings_body
from call_center.pages.wallboard import wallboard_body
from call_center.state.account import AccountState
from call_center.state.agents_admin import AgentsAdminState
from call_center.state.api_keys_admin import ApiKeysState
from call_center.state.callbacks import CallbacksState
from call_center.state.contacts import ContactsState
from call_center.state.dispositions_admin import DispositionsAdminState
from call_center.state.guard import AccessGuard
from call_center.state.history import HistoryState
from call_center.state.phone import PhoneState
from call_center.state.queues_admin import QueuesAdminState
from call_center.state.reports import ReportsState
from call_center.state.session import SessionState
from call_center.state.softphone import SoftphoneState
from call_center.state.wallboard import WallboardState
from call_center.state.wrapup import WrapupState

setup_logging()
# Reflex merges the metadata of every registered model; ours already share one MetaData, so the copies it
# skips are the same tables.
warnings.filterwarnings("ignore", message="Table '.*' already exists within the given MetaData")
for table in TABLES:
    rx.ModelRegistry.register(table)

app = rx.App(
    api_transformer=[create_api(), PageGuard, ForwardedScheme],
    stylesheets=["/styles.css"],
    html_lang="ar",
    html_custom_attrs={"dir": "rtl"},
)

app.register_lifespan_task(app_lifespan)
app.add_middleware(AccessGuard(), index=0)  # who may run which event handler: one guard for all of them

app.add_page(login_page, route="/login", title="AlMasar", on_load=LoginState.load)
app.add_page(
    app_frame("page.call_center.title", call_center_body),
    route="/call-center",
    title="AlMasar",
    on_load=[
        SessionState.check_session,
        SoftphoneState.load,
        HistoryState.load,
        WrapupState.load,
        CallbacksState.load,
    ],
)
if get_settings().TELEPHONY_PROVIDER == "local":
    app.add_page(
        app_frame("sim.title", phone_body, softphone=False),
        route="/phone",
        title="AlMasar",
        on_load=[SessionState.check_session, PhoneState.load],
    )
app.add_page(
    app_frame("page.history.title", history_body),
    route="/history",
    title="AlMasar",
    on_load=[SessionState.check_session, HistoryState.load],
)
app.add_page(
    app_frame("page.reports.title", reports_body),
    route="/reports",
    title="AlMasar",
    on_load=[SessionState.check_session, ReportsState.load],
)
app.add_page(
    app_frame("page.wallboard.title", wallboard_body),
    route="/wallboard",
    title="AlMasar",
    on_load=[SessionState.check_session, WallboardState.load],
)
app.add_page(
    app_frame("page.contacts.title", contacts_body),
    route="/contacts",
    title="AlMasar",
    on_load=[SessionState.check_session, ContactsState.load],
)
app.add_page(
    app_frame("page.settings.title", settings_body),
    route="/settings",
    title="AlMasar",
    on_load=[
        SessionState.check_session,
        AgentsAdminState.load,
        QueuesAdminState.load,
        DispositionsAdminState.load,
        ApiKeysState.load,
    ],
)
app.add_page(
    app_frame("page.account.title", account_body),
    route="/account",
    title="AlMasar",
    on_load=[SessionState.check_session, AccountState.load],
)
app.add_page(lambda: rx.fragment(), route="/", title="AlMasar", on_load=rx.redirect("/call-center"))
