"""Every UI string, in Arabic (the default) and English.

`catalog(lang)` gives the dict a page renders from; `t(key, lang)` one string. Arabic is written for Egyptian
users in Modern Standard Arabic, which reads naturally in a business tool.
"""

from __future__ import annotations

LANGUAGES = ("ar", "en")
DEFAULT_LANGUAGE = "ar"
RTL_LANGUAGES = frozenset({"ar"})

# key: (Arabic, English)
STRINGS: dict[str, tuple[str, str]] = {
    # App frame
    "app.name": ("المسار - مركز الاتصال", "AlMasar Call Center"),
    "app.short": ("المسار", "AlMasar"),
    "nav.call_center": ("مركز الاتصال", "Call center"),
    "nav.history": ("سجل المكالمات", "Call history"),
    "nav.contacts": ("جهات الاتصال", "Contacts"),
    "nav.settings": ("الإعدادات", "Settings"),
    "nav.phone": ("هاتف تجريبي", "Test phone"),
    "nav.main": ("التنقل الرئيسي", "Main navigation"),
    "frame.language": ("اللغة", "Language"),
    "frame.switch_language": ("English", "العربية"),
    "frame.switch_language_label": ("التبديل إلى الإنجليزية", "Switch to Arabic"),
    "frame.logout": ("تسجيل الخروج", "Log out"),
    "frame.availability": ("الحالة", "Availability"),
    "frame.loading": ("جارٍ التحميل…", "Loading…"),
    "availability.available": ("متاح", "Available"),
    "availability.busy": ("مشغول", "Busy"),
    "availability.offline": ("غير متصل", "Offline"),
    "role.admin": ("مدير", "Admin"),
    "role.agent": ("موظف", "Agent"),
    # Login
    "login.title": ("تسجيل الدخول", "Sign in"),
    "login.subtitle": ("ادخل إلى مركز الاتصال", "Sign in to the call center"),
    "login.email": ("البريد الإلكتروني", "Email"),
    "login.password": ("كلمة المرور", "Password"),
    "login.submit": ("دخول", "Sign in"),
    "login.error.invalid": (
        "البريد الإلكتروني أو كلمة المرور غير صحيحة.",
        "Wrong email or password.",
    ),
    "login.error.disabled": (
        "هذا الحساب معطل. تواصل مع المدير.",
        "This account is disabled. Contact your administrator.",
    ),
    "login.error.rate_limited": (
        "محاولات كثيرة خاطئة. حاول مرة أخرى بعد بضع دقائق.",
        "Too many failed attempts. Try again in a few minutes.",
    ),
    "login.error.expired": (
        "انتهت الجلسة. سجّل الدخول مرة أخرى.",
        "Your session has ended. Please sign in again.",
    ),
    "login.error.missing": ("أدخل البريد الإلكتروني وكلمة المرور.", "Enter your email and password."),
    "login.logged_out": ("تم تسجيل الخروج.", "You have been signed out."),
    # Pages
    "page.call_center.title": ("مركز الاتصال", "Call center"),
    "page.history.title": ("سجل المكالمات", "Call history"),
    "page.contacts.title": ("جهات الاتصال", "Contacts"),
    "page.settings.title": ("الإعدادات", "Settings"),
    "page.empty": ("لا توجد بيانات بعد.", "Nothing here yet."),
    "page.forbidden": ("هذه الصفحة للمديرين فقط.", "This page is for administrators only."),
    # Agents admin
    "agents.title": ("الموظفون", "Agents"),
    "agents.add": ("إضافة موظف", "Add agent"),
    "agents.edit": ("تعديل", "Edit"),
    "agents.save": ("حفظ", "Save"),
    "agents.cancel": ("إلغاء", "Cancel"),
    "agents.name": ("الاسم", "Name"),
    "agents.email": ("البريد الإلكتروني", "Email"),
    "agents.role": ("الصلاحية", "Role"),
    "agents.status": ("الحساب", "Account"),
    "agents.password": ("كلمة المرور", "Password"),
    "agents.password_hint": (
        "10 أحرف على الأقل. اتركها فارغة لعدم التغيير.",
        "At least 10 characters. Leave empty to keep the current one.",
    ),
    "agents.active": ("مفعل", "Active"),
    "agents.disabled": ("معطل", "Disabled"),
    "agents.disable": ("تعطيل", "Disable"),
    "agents.enable": ("تفعيل", "Enable"),
    "agents.actions": ("إجراءات", "Actions"),
    "agents.saved": ("تم الحفظ.", "Saved."),
    "agents.you": ("(أنت)", "(you)"),
    "error.email_taken": ("هذا البريد مستخدم بالفعل.", "That email is already in use."),
    "error.email_invalid": ("البريد الإلكتروني غير صالح.", "That email address is not valid."),
    "error.name_required": ("الاسم مطلوب.", "A name is required."),
    "error.password_short": (
        "كلمة المرور يجب أن تكون 10 أحرف على الأقل.",
        "The password must be at least 10 characters.",
    ),
    "error.last_admin": (
        "لا يمكن تعطيل أو تخفيض آخر مدير.",
        "The last active administrator cannot be disabled or demoted.",
    ),
    "error.self_disable": ("لا يمكنك تعطيل حسابك.", "You cannot disable your own account."),
    "error.not_found": ("غير موجود.", "Not found."),
    "error.forbidden": ("غير مسموح.", "Not allowed."),
    "error.generic": ("حدث خطأ. حاول مرة أخرى.", "Something went wrong. Please try again."),
}


def t(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """One UI string in `lang` (unknown keys come back as the key, so they are visible)."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "ar" else pair[1]


def catalog(lang: str) -> dict[str, str]:
    """All strings in `lang`, for the page to render from."""
    index = 0 if lang == "ar" else 1
    return {key: pair[index] for key, pair in STRINGS.items()}


def direction(lang: str) -> str:
    """'rtl' or 'ltr'."""
    return "rtl" if lang in RTL_LANGUAGES else "ltr"


def normalise_language(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE
