"""The labels of the WTO notification forms, in English and in the Chinese that portals publish.

Data, not logic: ``crawlers.forms`` finds these labels in a page's text and reads
each value up to the next label. Chinese labels are written in simplified
characters; traditional text is folded to simplified for matching only (see
``TRADITIONAL_TO_SIMPLIFIED``), so values keep the characters the page used.

Each entry is (field, pattern, needs_colon). ``needs_colon`` labels only count
when a colon follows (possibly after an explanatory parenthesis), which keeps
a word such as "description" inside a value from being taken for a label. A
``boundary`` label (short ones such as ``HS:``) must not follow a letter, digit or
opening parenthesis, so "(HS: 02.01)" inside a products text stays text.
"""

from __future__ import annotations

from dataclasses import dataclass

_TAIL = r"[^:：\n]{0,250}"  # an explanatory parenthesis before the colon


@dataclass(frozen=True)
class Label:
    field: str
    pattern: str
    needs_colon: bool = True
    boundary: bool = False


LABELS: tuple[Label, ...] = (
    # -- header and identity
    Label("symbol", r"通[报告]号|文档编号|文件编号|Document symbol"),
    Label("area", r"通告类型"),
    Label("distribution_date", r"通[报告]日期|通告发布时间|Date of distribution|Distribution date"),
    Label("distribution_date", r"时间", boundary=True),
    # -- 1. member, 2. agency, 3. articles
    Label("member", r"通[报告]成员|Notifying Member"),
    Label("local_government", r"如可能,?\s*列出涉及的地方政府名称" + _TAIL + r"|If applicable, name of local government"
          + _TAIL, needs_colon=False),
    Label("agency", r"负责(?:部门|机构)|Agency responsible"),
    Label("comments_body", r"Name and address" + _TAIL + r"designated to handle comments" + _TAIL
          + r"|Agency or authority designated to handle comments"),
    Label("articles", r"(?:通[报告])?(?:依据的?条款|依据条款)(?!其他)|Notified under Article", needs_colon=False),
    Label("articles_other", r"通报依据的条款其他"),
    # -- 4. products, HS, ICS, regions
    Label("products", r"覆盖的产品|所覆盖产品" + _TAIL + r"|相关产品|Products covered" + _TAIL),
    Label("hs", r"HS(?:\s*编码|\s*Code\(?s?\)?)?", boundary=True),
    Label("ics", r"ICS(?:\s*编码|\s*Code\(?s?\)?)?", boundary=True),
    Label("regions", r"(?:只要相关或可行,?\s*)?可能受影响的地区或国家|Regions or countries likely to be affected" + _TAIL),
    # -- 5. title, pages, languages
    Label("title", r"通[报告]标题|通[报告]文件的(?:名称|标题、语言及页数)|Title, number of pages and language\(s\) of the "
          r"notified document|Title of the notified document"),
    Label("title", r"Title", boundary=True),
    Label("pages", r"页数|Number of pages"),
    Label("languages", r"(?:使用)?语言|Language\(s\)", boundary=True),
    # -- 6. description, 7. objective
    Label("description", r"内容(?:概述|简述|描述)|通告描述|Description of content"),
    Label("description", r"描述|Description", boundary=True),
    Label("objectives", r"目的和理由|目标与理由|通告目的|Objective and rationale" + _TAIL),
    Label("urgent", r"如是紧急措施,?\s*说明紧急问题的性质"),
    Label("international_standard", r"国际标准、指南或建议|Is there a relevant international standard\?" + _TAIL),
    Label("conformity", r"Does this proposed regulation conform to the relevant international standard\?",
          needs_colon=False),
    # -- 8. documents, 9. dates, 10. deadline, 11. texts
    Label("relevant_documents", r"(?:可提供的)?相关文件(?:及文件语种)?|(?:Other )?[Rr]elevant documents" + _TAIL),
    Label("adoption_date", r"拟批准日期|Proposed date of adoption" + _TAIL),
    Label("publication_date", r"Proposed date of publication" + _TAIL),
    Label("entry_into_force", r"拟生效日期|Proposed date of entry into force"),
    Label("comment_deadline", r"提意见截止日期|意见反馈截[至止]日期|评议截止时间|Final date for comments"),
    Label("texts_available", r"文本可从以下机构得到|Texts available from"),
    # -- addendum form ("Reason for Addendum" and its checkboxes)
    Label("addendum_reason", r"补遗原因|Reason for Addendum"),
    Label("comment_period_changed", r"评议期变更-日期|Comment period changed - date"),
    Label("measure_adopted", r"已通知采取的措施-日期|Notified measure adopted - date"),
    Label("measure_published", r"通报措施公布-日期|Notified measure published - date"),
    Label("measure_in_force", r"通报措施生效-日期|Notified measure enters into force - date"),
    Label("final_text", r"最终措施文本可从1?获得|Text of final measure available from1?"),
    Label("withdrawn", r"通报措施撤回或撤销日期|Notified measure withdrawn or revoked - date"),
    Label("renotified_symbol", r"若措施被重新通报,?则相关编号为|Relevant symbol if the measure is re-notified"),
    Label("content_changed", r"通知措施的内容或范围发生变化,?文本可从1?获得|Content or scope of notified measure changed"
          + _TAIL),
    Label("new_deadline", r"新的意见反馈截止日期(?:\(如适用\))?|New deadline for comments(?: \(if applicable\))?"),
    Label("guidance", r"发布的解释性指南和文本可从1?获得|Interpretive guidance issued" + _TAIL),
    Label("other", r"其他|Other", boundary=True),
    # -- portal furniture: read and discarded (links, buttons, footnotes)
    Label("ignore", r"查看文档|通告文档/来源|链接网址|附件|通报原文|脚注1?|备注|依据条例"),
)

# Checkbox fields of the addendum form: their value counts only when the box is ticked.
CHECKBOX_FIELDS = frozenset({
    "comment_period_changed", "measure_adopted", "measure_published", "measure_in_force", "final_text",
    "withdrawn", "content_changed", "guidance", "other",
})

# Traditional characters seen in the labels and relative dates of Taiwanese/Hong Kong style pages.
# One character to one character, so offsets in the folded text are offsets in the original.
TRADITIONAL_TO_SIMPLIFIED = str.maketrans(
    "報號標題員負責門蓋產編碼稱頁數語內關據條擬準後見與護構國際價評議時間區響險體實規範應對說緊問類種預條檔傳適請經過發佈撤銷變這個從獲種據備註鏈網隻韓費質製訂應於採遺馬單獨稅補終",
    "报号标题员负责门盖产编码称页数语内关据条拟准后见与护构国际价评议时间区响险体实规范应对说紧问类种预条档传适请经过发布撤销变这个从获种据备注链网只韩费质制订应于采遗马单独税补终",
)

# Texts portals put before the first label that carry nothing (the form's own heading).
BOILERPLATE = (
    "世界贸易组织", "技术性贸易壁垒", "卫生与植物卫生措施", "通 报", "通  报", "通报", "TBT通报", "WTO/TBT通报详情",
    "WORLD TRADE ORGANIZATION", "Committee on Technical Barriers to Trade", "NOTIFICATION", "Addendum",
    "Committee on Sanitary and Phytosanitary Measures", "原文:英语",
)
