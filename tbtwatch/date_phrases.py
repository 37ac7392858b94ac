"""How notices state their dates in their own words, in English and in Chinese.

Data, not logic: ``tbtwatch.notice_dates`` reads these (case-insensitive; Chinese
text is converted to simplified characters before matching, so one simplified
pattern covers both scripts).

- ``LABELS``: a field's name as forms and portals write it. After a colon its
  value may be words, kept as the member wrote them ("to be determined",
  "6 months after adoption"); after "is", 为 or 是 only a date, a relative
  deadline or a "to be determined" counts, because that is prose.
- ``PHRASES``: prose around a date ("comments are invited until ...",
  "已于2020年4月23日通过"). ``{date}`` stands for a full date; ``{deadline}`` for
  a date or a deadline relative to the notification ("60 days from notification").
- ``UNDETERMINED``: what members write when a date is not fixed yet.
- ``KEYWORDS``: words every label and phrase of a field contains (lower case,
  simplified); a text without any of them is not searched for that field, which
  keeps reading cheap enough to run on every notice the model validates.
"""

from __future__ import annotations

LABELS: dict[str, tuple[str, ...]] = {
    "comment_deadline": (
        r"(?:final|new)\s+dates?\s+for\s+(?:the\s+)?(?:receipt\s+of\s+|submission\s+of\s+)?comments",
        r"(?:final\s+|new\s+)?deadline\s+for\s+(?:the\s+)?(?:receipt\s+of\s+|submission\s+of\s+|submitting\s+)?comments",
        r"comment\s+period\s+changed\s*-\s*date",
        r"(?:提|评议)?意见(?:反馈|提交)?截[止至](?:日期|时间)",
        r"评议期?截[止至](?:日期|时间)",
        r"评议期变更\s*-\s*日期",
    ),
    "adoption_date": (
        r"(?:proposed\s+)?date\s+of\s+adoption",
        r"notified\s+measure\s+adopted\s*-\s*date",
        r"拟?(?:批准|通过)日期",
        r"已通知采取的措施\s*-\s*日期",
    ),
    "entry_into_force": (
        r"(?:proposed\s+)?date\s+of\s+entry\s+into\s+force",
        r"notified\s+measure\s+enters\s+into\s+force\s*-\s*date",
        r"拟?(?:生效|实施)日期",
        r"通报措施生效\s*-\s*日期",
    ),
}

_UNTIL = r"(?:until|by|before|till|within|no\s+later\s+than|not\s+later\s+than|up\s+to)"
_ON = r"(?:on|from|as\s+(?:of|from))"
_GAP = r"[^.;\n]{0,60}?"  # words between the verb and the date, within one sentence

PHRASES: dict[str, tuple[str, ...]] = {
    "comment_deadline": (
        rf"\bcomments?\b{_GAP}\b{_UNTIL}\s+(?:the\s+)?{{deadline}}",
        rf"\bcomment(?:ing)?\s+period\b{_GAP}\b(?:ends?|ended|closes?|closed|expires?|expired)\s+on\s+{{date}}",
        r"(?:评议|意见)[^，,。；;\n]{0,20}?(?:截[止至]|延长|延期|顺延)(?:日期|时间)?\s*(?:为|是|至|到|于|:|：)?\s*{deadline}",
        r"{date}\s*(?:之?前|以前)\s*(?:提交|提出|反馈)[^，,。；;\n]{0,10}?(?:评议|意见)",
    ),
    "adoption_date": (
        r"\badopted\b[^.;\n]{0,120}?\bon\s+{date}",
        r"{date}\s*(?:已|正式|获得?|被){0,3}\s*(?:批准|通过|采纳)(?!官方|政府|公报|网站|邮件|电子)",
    ),
    "entry_into_force": (
        rf"\b(?:enter(?:s|ed|ing)?|c[ao]me|comes|coming)\s+into\s+(?:force|effect)\b{_GAP}\b{_ON}\s+{{date}}",
        rf"\b(?:take[sn]?|took|taking)\s+effect\b{_GAP}\b{_ON}\s+{{date}}",
        rf"\b(?:effective|applicable|mandatory|compulsory|in\s+force)\s+(?:{_ON}|since)\s+{{date}}",
        rf"\b(?:shall|will)\s+apply\s+{_ON}\s+{{date}}",
        r"{date}\s*(?:起|开始)?\s*(?:正式)?\s*(?:生效|实施|施行)",
    ),
}

UNDETERMINED = (
    r"to\s+be\s+(?:determined|confirmed|decided|announced)|not\s+(?:yet\s+)?(?:determined|known|fixed)"
    r"|\bTB[DC]\b|待定|未定|尚未确定|待确定"
)

KEYWORDS: dict[str, tuple[str, ...]] = {
    "comment_deadline": ("comment", "截止", "截至", "评议", "意见"),
    "adoption_date": ("adopt", "批准", "通过", "采纳", "采取的措施"),
    "entry_into_force": ("force", "effect", "apply", "applicable", "mandatory", "compulsory", "生效", "实施", "施行"),
}
