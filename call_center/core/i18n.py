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
    "frame.availability": ("حالة التواجد", "Availability"),
    "frame.loading": ("جارٍ التحميل…", "Loading…"),
    "availability.available": ("متاح", "Available"),
    "availability.away.break": ("في استراحة", "Away: break"),
    "availability.away.meeting": ("في اجتماع", "Away: meeting"),
    "availability.away.training": ("في تدريب", "Away: training"),
    "availability.away.missed": ("بعيد: مكالمات فائتة", "Away: missed calls"),
    # Wrap-up (after-call work)
    "wrapup.title": ("إنهاء المكالمة", "Wrap-up"),
    "wrapup.intro": (
        "سجّل ما دارت حوله المكالمة. لن تصلك مكالمات جديدة حتى ينتهي الوقت.",
        "Note what the call was about. No new calls reach you until the time is up.",
    ),
    "wrapup.time_left": ("الوقت المتبقي", "Time left"),
    "wrapup.over": (
        "انتهى وقت إنهاء المكالمة وأنت متاح مجددًا. ما زال بإمكانك الحفظ.",
        "Wrap-up time is over and you are available again. You can still save.",
    ),
    "wrapup.call_with": ("المكالمة مع", "Call with"),
    "wrapup.disposition": ("نتيجة المكالمة", "Disposition"),
    "wrapup.disposition.none": ("— اختر —", "— choose —"),
    "wrapup.notes": ("ملاحظات", "Notes"),
    "wrapup.tags": ("وسوم (افصل بينها بفاصلة)", "Tags (comma-separated)"),
    "wrapup.save": ("حفظ", "Save"),
    "wrapup.done": ("حفظ وإنهاء", "Save and finish"),
    "wrapup.extend": ("تمديد الوقت", "Extend"),
    "wrapup.saved": ("تم الحفظ.", "Saved."),
    "wrapup.error.none": ("لست في وقت إنهاء مكالمة.", "You are not in wrap-up."),
    "wrapup.error.extended": ("يمكن التمديد مرة واحدة فقط.", "Wrap-up can be extended once."),
    "wrapup.error.disposition": ("نتيجة غير معروفة أو غير مفعّلة.", "Unknown or inactive disposition."),
    "wrapup.error.notes_long": ("الملاحظات أطول من 4000 حرف.", "Notes are limited to 4000 characters."),
    # Dispositions (settings)
    "dispositions.title": ("نتائج المكالمات", "Dispositions"),
    "dispositions.intro": (
        "القائمة التي يختار منها الموظفون نتيجة المكالمة. تعطيل نتيجة يخفيها من القائمة ويُبقيها في السجل.",
        "The list agents pick a call's outcome from. Deactivating one hides it from the list and keeps it "
        "in the history.",
    ),
    "dispositions.name_ar": ("الاسم بالعربية", "Arabic name"),
    "dispositions.name_en": ("الاسم بالإنجليزية", "English name"),
    "dispositions.add": ("إضافة", "Add"),
    "dispositions.status": ("الحالة", "Status"),
    "dispositions.active": ("مفعّلة", "Active"),
    "dispositions.inactive": ("معطّلة", "Inactive"),
    "dispositions.deactivate": ("تعطيل", "Deactivate"),
    "dispositions.activate": ("تفعيل", "Activate"),
    "dispositions.added": ("أضيفت النتيجة.", "Disposition added."),
    "dispositions.error.name": (
        "الاسمان بالعربية والإنجليزية مطلوبان.",
        "Both the Arabic and the English name are required.",
    ),
    "dispositions.error.exists": ("توجد نتيجة بهذا الاسم.", "A disposition with that name exists."),
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
    "error.csrf": (
        "رُفض الطلب لأنه لم يأتِ من صفحات التطبيق.",
        "The request was refused: it did not come from the app's own pages.",
    ),
    "login.error.forbidden": (
        "هذا الإجراء يحتاج إلى صلاحية أعلى. سجّل الدخول بحساب مدير.",
        "That action needs more rights. Sign in with an administrator's account.",
    ),
    "login.logged_out": ("تم تسجيل الخروج.", "You have been signed out."),
    # Pages
    "page.call_center.title": ("مركز الاتصال", "Call center"),
    "page.history.title": ("سجل المكالمات", "Call history"),
    "page.contacts.title": ("جهات الاتصال", "Contacts"),
    "page.settings.title": ("الإعدادات", "Settings"),
    "page.empty": ("لا توجد بيانات بعد.", "Nothing here yet."),
    "page.forbidden": ("هذه الصفحة للمديرين فقط.", "This page is for administrators only."),
    "page.account.title": ("حسابي", "My account"),
    "nav.account": ("حسابي", "My account"),
    "account.password_title": ("تغيير كلمة المرور", "Change password"),
    "account.password_intro": (
        "بعد التغيير يُسجَّل خروجك من كل الأجهزة الأخرى.",
        "After the change you are signed out everywhere else.",
    ),
    "account.password_hint": ("10 أحرف على الأقل.", "At least 10 characters."),
    "account.old_password": ("كلمة المرور الحالية", "Current password"),
    "account.new_password": ("كلمة المرور الجديدة", "New password"),
    "account.new_password_again": ("أعد كتابة كلمة المرور الجديدة", "Repeat the new password"),
    "account.change_password": ("تغيير كلمة المرور", "Change password"),
    "account.password_changed": (
        "تم تغيير كلمة المرور، وأُنهيت جلساتك الأخرى.",
        "Your password was changed and your other sessions were ended.",
    ),
    "account.error.old_password": ("كلمة المرور الحالية غير صحيحة.", "The current password is wrong."),
    "account.error.mismatch": ("كلمتا المرور الجديدتان غير متطابقتين.", "The new passwords do not match."),
    "account.error.same_password": (
        "كلمة المرور الجديدة هي نفس الحالية.",
        "The new password is the same as the current one.",
    ),
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
    # Softphone
    "phone.title": ("الهاتف", "Phone"),
    "dial.number": ("رقم العميل", "Customer number"),
    "dial.placeholder": ("مثال: 01001234567", "e.g. 01001234567"),
    "dial.call": ("اتصال", "Call"),
    "dial.echo_hint": ("خط الاختبار (يعيد صوتك):", "Echo test line (plays your voice back):"),
    "dial.keypad": ("لوحة الأرقام", "Keypad"),
    "dial.backspace": ("حذف رقم", "Delete digit"),
    "dial.recent": ("أرقام حديثة", "Recent numbers"),
    "dial.contacts": ("بحث في جهات الاتصال", "Search contacts"),
    "dial.no_recent": ("لا توجد مكالمات حديثة.", "No recent calls."),
    "dial.error.invalid": (
        "رقم غير صالح. اكتب رقماً مثل 01001234567 أو ‎+201001234567.",
        "Not a valid number. Type e.g. 01001234567 or +201001234567.",
    ),
    "dial.error.country": ("الاتصال بهذه الدولة غير مسموح.", "Calls to this country are not allowed."),
    "dial.error.premium": (
        "أرقام الخدمات مرتفعة التكلفة ممنوعة.",
        "Premium-rate numbers may not be called.",
    ),
    "dial.error.shared_cost": ("أرقام التكلفة المشتركة ممنوعة.", "Shared-cost numbers may not be called."),
    "dial.error.personal": (
        "الأرقام الشخصية (المحوّلة) ممنوعة.",
        "Personal (forwarding) numbers may not be called.",
    ),
    "dial.error.uan": ("الأرقام الموحدة (UAN) ممنوعة.", "Universal access (UAN) numbers may not be called."),
    "dial.error.voip": ("أرقام الاتصال عبر الإنترنت (VoIP) ممنوعة.", "VoIP numbers may not be called."),
    "dial.error.pager": ("أرقام أجهزة النداء ممنوعة.", "Pager numbers may not be called."),
    "dial.error.voicemail": ("أرقام البريد الصوتي ممنوعة.", "Voicemail access numbers may not be called."),
    "dial.error.toll_free": ("الأرقام المجانية ممنوعة هنا.", "Toll-free numbers may not be called here."),
    "dial.error.international_network": (
        "أرقام الأقمار الصناعية والشبكات الدولية ممنوعة.",
        "Satellite and international-network numbers may not be called.",
    ),
    "dial.error.blocked_type": ("هذا النوع من الأرقام ممنوع.", "This kind of number may not be called."),
    "dial.error.rate": (
        "مكالمات كثيرة في دقيقة واحدة. انتظر قليلاً.",
        "Too many calls in one minute. Please wait a moment.",
    ),
    "dial.valid": ("رقم صالح", "Valid number"),
    "call.state.idle": ("جاهز", "Ready"),
    "call.state.connecting": ("جارٍ الاتصال…", "Connecting…"),
    "call.state.ringing": ("يرن…", "Ringing…"),
    "call.state.in-progress": ("مكالمة جارية", "In call"),
    "call.state.on-hold": ("في الانتظار", "On hold"),
    "call.state.ended": ("انتهت المكالمة", "Call ended"),
    "call.hangup": ("إنهاء المكالمة", "Hang up"),
    "call.mute": ("كتم الصوت", "Mute"),
    "call.unmute": ("إلغاء الكتم", "Unmute"),
    "call.hold": ("انتظار", "Hold"),
    "call.resume": ("استئناف", "Resume"),
    "call.keypad": ("لوحة النغمات", "Keypad"),
    "call.sent_digits": ("الأرقام المرسلة", "Digits sent"),
    "call.received_digits": ("الأرقام المستلمة", "Digits received"),
    "call.incoming": ("مكالمة واردة", "Incoming call"),
    "call.accept": ("رد", "Answer"),
    "call.reject": ("رفض", "Decline"),
    "call.unknown_caller": ("رقم غير مسجل", "Unknown caller"),
    "call.ended_reason": ("السبب", "Reason"),
    "call.outcome.completed": ("انتهت المكالمة", "Call ended"),
    "call.outcome.busy": ("الرقم مشغول أو رفض المكالمة", "Busy or declined"),
    "call.outcome.no-answer": ("لم يتم الرد", "No answer"),
    "call.outcome.failed": ("فشل الاتصال", "Call failed"),
    "call.outcome.canceled": ("أُلغيت المكالمة", "Call canceled"),
    "call.error.unreachable": ("الرقم غير متاح حالياً.", "The number is not reachable."),
    "call.error.no_agents": ("لا يوجد موظف متاح الآن.", "No agent is available right now."),
    "call.error.media_unavailable": (
        "خادم الصوت غير متاح. أعد تشغيل التطبيق.",
        "The media server is not available. Restart the app.",
    ),
    "call.error.media": ("حدث خطأ في الصوت.", "A media error occurred."),
    "call.error.shutting_down": (
        "الخادم يتوقف الآن، لا يمكن بدء مكالمات جديدة.",
        "The server is stopping: no new calls can start.",
    ),
    "call.error.taken": ("رد موظف آخر على المكالمة.", "Another agent answered the call."),
    "call.error.gone": ("انتهت المكالمة.", "The call has ended."),
    "call.error.already_answered": ("تم الرد على المكالمة بالفعل.", "The call was already answered."),
    "call.error.not_answered": ("لم يتم الرد على المكالمة بعد.", "The call is not answered yet."),
    "call.error.digits": ("نغمات غير صالحة.", "Invalid keypad digits."),
    "call.error.unsupported": (
        "هذه العملية غير متاحة مع مزود الاتصالات الحالي.",
        "Not available with this provider.",
    ),
    "call.answered_elsewhere": ("رد موظف آخر.", "Answered by another agent."),
    "device.title": ("الصوت", "Audio"),
    "device.microphone": ("الميكروفون", "Microphone"),
    "device.speaker": ("السماعة", "Speaker"),
    "device.default": ("الافتراضي", "Default"),
    "device.level": ("مستوى الميكروفون", "Microphone level"),
    "device.registered": ("الهاتف متصل", "Phone connected"),
    "device.connecting": ("جارٍ توصيل الهاتف…", "Connecting the phone…"),
    "device.audio_blocked": ("المتصفح منع تشغيل الصوت تلقائياً.", "The browser blocked sound from playing."),
    "device.enable_audio": ("تفعيل الصوت", "Enable sound"),
    "device.error.mic-denied": ("لا يوجد إذن للميكروفون.", "No microphone permission."),
    "device.error.mic-missing": ("لا يوجد ميكروفون متصل.", "No microphone found."),
    "device.error.mic-busy": (
        "الميكروفون مستخدم من برنامج آخر.",
        "The microphone is in use by another program.",
    ),
    "device.error.mic-error": ("تعذر تشغيل الميكروفون.", "The microphone could not be started."),
    "device.error.signaling-lost": ("انقطع الاتصال بالخادم.", "Lost the connection to the server."),
    "device.error.session-expired": (
        "انتهت الجلسة. سجّل الدخول مرة أخرى.",
        "Your session has ended. Please sign in again.",
    ),
    "device.error.busy": ("لديك مكالمة جارية بالفعل.", "You are already on a call."),
    "device.error.hold-unsupported": (
        "الانتظار غير متاح مع مكالمات Twilio.",
        "Hold is not available for Twilio calls.",
    ),
    "device.error.generic": ("حدث خطأ في الهاتف.", "The phone reported an error."),
    "device.error.twilio-token-invalid": (
        "رفض Twilio رمز الدخول. تحقق من إعدادات Twilio (twilio doctor).",
        "Twilio refused the access token. Check the Twilio settings (twilio doctor).",
    ),
    "device.error.twilio-token-expired": (
        "انتهت صلاحية رمز الدخول. أعد تحميل الصفحة.",
        "The access token expired. Reload the page.",
    ),
    "device.error.twilio-connection-error": (
        "تعذر الاتصال بـ Twilio. تحقق من اتصال الإنترنت والجدار الناري.",
        "Could not connect to Twilio. Check the internet connection and the firewall.",
    ),
    "device.error.twilio-signaling": (
        "تعذر الوصول إلى خوادم Twilio. تحقق من اتصال الإنترنت والجدار الناري.",
        "Twilio's servers cannot be reached. Check the internet connection and the firewall.",
    ),
    "device.error.twilio-unavailable": ("الرقم غير متاح.", "The number is unavailable."),
    "device.error.twilio-busy": ("الرقم مشغول.", "The number is busy."),
    "device.error.twilio-media-failed": (
        "تعذر توصيل الصوت (الشبكة تمنع WebRTC).",
        "Audio could not connect (the network blocks WebRTC).",
    ),
    "device.error.twilio-user-aborted": ("أُلغيت المكالمة.", "The call was aborted."),
    "device.error.twilio-error": ("أبلغ Twilio عن خطأ.", "Twilio reported an error."),
    "device.warning.quality": (
        "جودة المكالمة ضعيفة (الشبكة بطيئة أو غير مستقرة).",
        "Call quality is poor (the network is slow or unstable).",
    ),
    "device.warning.reconnecting": ("جارٍ إعادة الاتصال بالخادم…", "Reconnecting to the server…"),
    "help.title": ("حل المشكلات", "Troubleshooting"),
    "help.mic_denied": (
        "اضغط على رمز القفل بجوار عنوان الموقع، واختر «السماح» للميكروفون، ثم أعد تحميل الصفحة.",
        "Click the lock icon next to the address, set Microphone to “Allow”, then reload the page.",
    ),
    "help.mic_missing": (
        "وصّل سماعة رأس أو ميكروفوناً، ثم اختره من قائمة الميكروفون.",
        "Plug in a headset or microphone, then pick it in the Microphone list.",
    ),
    "help.https": (
        "يعمل الاتصال من المتصفح فقط عبر HTTPS أو على هذا الجهاز (localhost).",
        "Browser calls work only over HTTPS or on this machine (localhost).",
    ),
    "help.not_connecting": (
        "إذا لم تتصل المكالمة: تأكد أن الرقم صحيح وأن الطرف الآخر متصل، وأن اتصال الإنترنت مستقر.",
        "If a call does not connect: check the number, that the other side is reachable, and your network.",
    ),
    "help.recordings": (
        "تظهر التسجيلات في سجل المكالمات خلال ثوانٍ من انتهاء المكالمة.",
        "Recordings appear in the call history seconds after a call ends.",
    ),
    "reason.hangup_agent": ("أنهى الموظف المكالمة", "the agent hung up"),
    "reason.hangup_customer": ("أنهى العميل المكالمة", "the customer hung up"),
    "reason.hangup_system": ("أنهى النظام المكالمة", "ended by the system"),
    "reason.no_answer": ("لم يرد أحد", "nobody answered"),
    "reason.rejected": ("رُفضت المكالمة", "the call was declined"),
    "reason.lost_agent": ("انقطع اتصال الموظف", "the agent's connection was lost"),
    "reason.lost_customer": ("انقطع اتصال العميل", "the customer's connection was lost"),
    "reason.shutdown": ("أُوقف الخادم", "the server was stopped"),
    "reason.media_restarted": ("أُعيد تشغيل خادم الصوت", "the media server restarted"),
    # History
    "history.filters": ("تصفية", "Filters"),
    "history.from": ("من تاريخ", "From"),
    "history.to": ("إلى تاريخ", "To"),
    "history.direction": ("الاتجاه", "Direction"),
    "history.status": ("الحالة", "Status"),
    "history.agent": ("الموظف", "Agent"),
    "history.recording": ("التسجيل", "Recording"),
    "history.search": ("بحث بالرقم أو الاسم أو الملاحظات", "Search by number, name or notes"),
    "history.disposition": ("النتيجة", "Disposition"),
    "history.tag": ("وسم", "Tag"),
    "history.notes": ("ملاحظات", "Notes"),
    "history.search_button": ("بحث", "Search"),
    "history.all": ("الكل", "All"),
    "history.with_recording": ("بتسجيل", "With recording"),
    "history.without_recording": ("بدون تسجيل", "Without recording"),
    "history.clear": ("مسح التصفية", "Clear filters"),
    "history.customer": ("العميل", "Customer"),
    "history.started": ("البداية", "Started"),
    "history.duration": ("المدة", "Duration"),
    "history.empty": ("لا توجد مكالمات.", "No calls yet."),
    "history.empty_filtered": ("لا توجد مكالمات تطابق التصفية.", "No calls match these filters."),
    "history.page": ("صفحة", "Page"),
    "history.of": ("من", "of"),
    "history.calls": ("مكالمة", "calls"),
    "history.previous": ("السابق", "Previous"),
    "history.next": ("التالي", "Next"),
    "history.recent": ("آخر المكالمات", "Latest calls"),
    "history.see_all": ("كل السجل", "Full history"),
    "history.download": ("تنزيل التسجيل", "Download recording"),
    "history.play": ("تشغيل التسجيل", "Play recording"),
    "history.call_back": ("معاودة الاتصال", "Call back"),
    "history.live": ("يتحدث تلقائياً", "Updates live"),
    "recording.processing": ("جارٍ تجهيز التسجيل…", "Preparing recording…"),
    "recording.failed": ("فشل التسجيل", "Recording failed"),
    "recording.none": ("بدون تسجيل", "No recording"),
    "direction.inbound": ("واردة", "Inbound"),
    "direction.outbound": ("صادرة", "Outbound"),
    "status.queued": ("في الانتظار", "Queued"),
    "status.initiated": ("بدأت", "Started"),
    "status.ringing": ("يرن", "Ringing"),
    "status.in-progress": ("جارية", "In progress"),
    "status.completed": ("مكتملة", "Completed"),
    "status.busy": ("مشغول", "Busy"),
    "status.no-answer": ("لم يُرد", "No answer"),
    "status.failed": ("فشلت", "Failed"),
    "status.canceled": ("أُلغيت", "Canceled"),
    # Contacts
    "contacts.add": ("إضافة جهة اتصال", "Add contact"),
    "contacts.edit_title": ("تعديل جهة الاتصال", "Edit contact"),
    "contacts.name": ("الاسم", "Name"),
    "contacts.phone": ("رقم الهاتف", "Phone number"),
    "contacts.notes": ("ملاحظات", "Notes"),
    "contacts.call": ("اتصال", "Call"),
    "contacts.edit": ("تعديل", "Edit"),
    "contacts.delete": ("حذف", "Delete"),
    "contacts.confirm_delete": ("حذف جهة الاتصال نهائياً؟", "Delete this contact for good?"),
    "contacts.search": ("بحث في جهات الاتصال", "Search contacts"),
    "contacts.empty": ("لا توجد جهات اتصال بعد.", "No contacts yet."),
    "contacts.count": ("جهة اتصال", "contacts"),
    "contacts.error.name": ("الاسم مطلوب.", "A name is required."),
    "contacts.error.duplicate": (
        "هذا الرقم مسجل لجهة اتصال أخرى.",
        "That number already belongs to a contact.",
    ),
    # API keys
    "apikeys.title": ("مفاتيح الربط (API)", "API keys"),
    "apikeys.intro": (
        "مفاتيح للقراءة فقط يستخدمها نظام CRM لقراءة المكالمات والتسجيلات: Authorization: Bearer <المفتاح>.",
        "Read-only keys the CRM uses to read calls and recordings: Authorization: Bearer <key>.",
    ),
    "apikeys.name": ("اسم المفتاح", "Key name"),
    "apikeys.create": ("إنشاء مفتاح", "Create key"),
    "apikeys.revoke": ("إلغاء", "Revoke"),
    "apikeys.revoked": ("ملغى", "Revoked"),
    "apikeys.active": ("فعال", "Active"),
    "apikeys.created": ("أُنشئ", "Created"),
    "apikeys.last_used": ("آخر استخدام", "Last used"),
    "apikeys.never": ("لم يُستخدم", "Never"),
    "apikeys.shown_once": (
        "انسخ المفتاح الآن؛ لن يظهر مرة أخرى:",
        "Copy the key now; it will not be shown again:",
    ),
    "apikeys.error.name": ("اسم المفتاح مطلوب.", "A key name is required."),
    "apikeys.empty": ("لا توجد مفاتيح.", "No keys yet."),
    # Simulated phone page
    "sim.title": ("هاتف عميل تجريبي", "Simulated customer phone"),
    "sim.intro": (
        "هذه الصفحة تعمل كهاتف عميل: اتصل بها من مركز الاتصال، أو اتصل منها برقم الشركة.",
        "This page acts as a customer's phone: call it from the call center, or call the company from it.",
    ),
    "sim.number": ("رقم هذا الهاتف", "This phone's number"),
    "sim.use_number": ("استخدام الرقم", "Use this number"),
    "sim.registered_as": ("الهاتف يعمل بالرقم", "Phone is on as"),
    "sim.call_company": ("اتصل بالشركة", "Call the company"),
    "sim.company_number": ("رقم الشركة", "Company number"),
    "sim.ringing_from": ("مكالمة من", "Call from"),
    "sim.idle": ("في انتظار المكالمات", "Waiting for calls"),
    "phone.error.number": ("رقم الهاتف غير صالح.", "That phone number is not valid."),
    "reason.transferred": ("حُوِّلت المكالمة", "the call was transferred"),
    "reason.taken_back": ("استعاد الموظف الأول المكالمة", "the first agent took the call back"),
    "call.notice.answered_elsewhere": ("رد موظف آخر على المكالمة.", "Answered by another agent."),
    "call.notice.missed": (
        "لم ترد في الوقت المحدد، فحُوّلت المكالمة إلى موظف آخر.",
        "You did not answer in time; the call went to the next agent.",
    ),
    "queue.reason.timeout": (
        "طال انتظار المتصل في قائمة الانتظار",
        "The caller waited too long in the queue",
    ),
    "queue.outcome.abandoned": (
        "أنهى المتصل المكالمة أثناء الانتظار بعد",
        "Caller hung up while waiting, after",
    ),
    "queue.outcome.answered": ("انتظر في قائمة الانتظار", "Waited in the queue"),
    "queue.outcome.timeout": ("انتهت مدة الانتظار بعد", "Wait limit reached after"),
    "queue.outcome.no-agents": ("لا يوجد موظف، بعد انتظار", "No agent logged in, after waiting"),
    "queue.away_missed": (
        "لم ترد على عدة مكالمات متتالية من قائمة الانتظار، فأصبحت حالتك «بعيد». اختر «متاح» عند عودتك.",
        "You let several queue calls in a row ring out, so you were set to away. Choose Available when "
        "you are back.",
    ),
    "sim.queue_position": ("ترتيبك في قائمة الانتظار:", "Your place in the queue:"),
    # Transfers (services.transfers)
    "call.transfer": ("تحويل", "Transfer"),
    "transfer.title": ("تحويل المكالمة", "Transfer the call"),
    "transfer.agents": ("الموظفون المتاحون", "Available agents"),
    "transfer.no_agents": ("لا يوجد موظف متاح الآن.", "No agent is available now."),
    "transfer.refresh": ("تحديث", "Refresh"),
    "transfer.number": ("أو إلى رقم", "Or to a number"),
    "transfer.cold": ("تحويل مباشر", "Transfer now"),
    "transfer.warm": ("استشارة أولاً", "Consult first"),
    "transfer.state.ringing": ("جارٍ الاتصال بـ", "Calling"),
    "transfer.state.consulting": ("تتحدث مع", "Talking with"),
    "transfer.state.conference": ("مكالمة ثلاثية مع", "Three-way call with"),
    "transfer.customer_held": ("العميل في الانتظار ويسمع نغمة الانتظار.", "The customer is on hold."),
    "transfer.complete": ("إتمام التحويل", "Complete transfer"),
    "transfer.cancel": ("إلغاء التحويل", "Cancel transfer"),
    "transfer.talk_to_all": ("ضمّ العميل", "Talk to all"),
    "transfer.incoming": ("تحويل من", "Transfer from"),
    "transfer.to_me": ("محوَّلة إليك من", "Transferred to you by"),
    "transfer.reason.no_answer": (
        "لم يرد الطرف المحوَّل إليه؛ العميل معك مجدداً.",
        "The transfer was not answered; the customer is back with you.",
    ),
    "transfer.reason.declined": (
        "رُفض التحويل؛ العميل معك مجدداً.",
        "The transfer was declined; the customer is back with you.",
    ),
    "transfer.reason.failed": (
        "تعذر التحويل؛ العميل معك مجدداً.",
        "The transfer could not be made; the customer is back with you.",
    ),
    "transfer.reason.canceled": (
        "أُلغي التحويل؛ العميل معك مجدداً.",
        "Transfer canceled; the customer is back with you.",
    ),
    "transfer.reason.target_left": (
        "غادر الطرف الآخر؛ العميل معك مجدداً.",
        "The other party left; the customer is back with you.",
    ),
    "transfer.reason.call_ended": ("انتهت المكالمة أثناء التحويل.", "The call ended during the transfer."),
    "transfer.error.in_progress": ("يوجد تحويل جارٍ لهذه المكالمة.", "A transfer of this call is going on."),
    "transfer.error.agent_unavailable": (
        "هذا الموظف لا يستطيع استقبال مكالمة الآن.",
        "That agent cannot take a call now.",
    ),
    "transfer.error.not_answered": (
        "لم يرد الطرف المحوَّل إليه بعد.",
        "The transfer target has not answered yet.",
    ),
    "transfer.error.none": ("لا يوجد تحويل لإلغائه.", "There is no transfer to cancel."),
    "transfer.error.no_target": ("اختر موظفاً أو اكتب رقماً.", "Choose an agent or type a number."),
    "transfer.error.number": (
        "حوّل إلى رقم غير رقم العميل.",
        "Transfer to a number other than the customer's.",
    ),
    "transfer.error.expired": ("لم يعد التحويل متاحاً.", "This transfer is no longer available."),
    # A call's timeline and chain (history)
    "history.chain": ("سلسلة المكالمة", "Call chain"),
    "history.timeline": ("مراحل المكالمة", "Timeline"),
    "note.hold": ("وُضع العميل في الانتظار", "Customer put on hold"),
    "note.resume": ("عاد العميل من الانتظار", "Customer taken off hold"),
    "note.transfer-cold": ("بدأ تحويل مباشر إلى", "Transfer started to"),
    "note.transfer-warm": ("بدأت استشارة مع", "Consultation started with"),
    "note.transfer-answered": ("رد على التحويل", "Transfer answered by"),
    "note.transfer-conference": ("مكالمة ثلاثية", "Three-way call"),
    "note.transfer-completed": ("اكتمل التحويل إلى", "Transferred to"),
    "note.transfer-canceled": ("انتهى التحويل دون إتمام", "Transfer ended without completing"),
    "note.transfer-failed": ("فشل التحويل", "Transfer failed"),
    # Twilio provider: configuration errors and what callers hear (spoken with <Say>)
    "twilio.error.config": (
        "إعدادات Twilio غير مكتملة. اطلب من المدير تشغيل أمر الفحص twilio doctor.",
        "Twilio is not fully configured. Ask an administrator to run `twilio doctor`.",
    ),
    "twilio.say.invalid": (
        "الرقم الذي طلبته غير صحيح. تحقق منه وحاول مرة أخرى.",
        "The number you dialled is not valid. Please check it and try again.",
    ),
    "twilio.say.country": (
        "غير مسموح بالاتصال بهذه الدولة.",
        "Calls to this country are not allowed.",
    ),
    "twilio.say.blocked_type": (
        "هذا النوع من الأرقام غير مسموح بالاتصال به.",
        "Calls to this kind of number are not allowed.",
    ),
    "twilio.say.rate": (
        "لقد بدأت مكالمات كثيرة خلال الدقيقة الأخيرة. انتظر قليلاً ثم حاول مرة أخرى.",
        "You have started too many calls in the last minute. Please wait a moment and try again.",
    ),
    "twilio.say.not_allowed": (
        "لا يمكن إجراء هذه المكالمة من هذا الحساب.",
        "This call cannot be placed from this account.",
    ),
    "twilio.say.voicemail": (
        "لا يوجد موظف متاح الآن. اترك رسالتك بعد سماع الصافرة.",
        "No one is available to take your call. Please leave a message after the beep.",
    ),
}


def t(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """One UI string in `lang` (unknown keys come back as the key, so they are visible)."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "ar" else pair[1]


def key_or_text(value: str) -> tuple[str, str]:
    """A stored reason as (i18n key, "") when it is one, else ("", the free text): pages translate the key
    in their current language, so it follows a language switch."""
    return (value, "") if value in STRINGS else ("", value)


def catalog(lang: str) -> dict[str, str]:
    """All strings in `lang`, for the page to render from."""
    index = 0 if lang == "ar" else 1
    return {key: pair[index] for key, pair in STRINGS.items()}


def direction(lang: str) -> str:
    """'rtl' or 'ltr'."""
    return "rtl" if lang in RTL_LANGUAGES else "ltr"


def normalise_language(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE
