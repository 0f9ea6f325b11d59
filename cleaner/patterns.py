"""Patterns as data: page furniture, metadata labels and dates on Chinese news pages.

Every pattern runs on a normalised, simplified view of one text line (fullwidth
punctuation already applied, so ``:`` and ``：`` are both accepted where a
line may have escaped normalisation).
"""

from __future__ import annotations

import re

C = "[:：]"  # a label colon
SEP = r"[\s|｜丨/]"

# --- metadata labels -------------------------------------------------------
ROLE_WORDS = (
    "见习记者",
    "实习记者",
    "特约记者",
    "本报记者",
    "通讯员",
    "记者",
    "作者",
    "撰稿",
    "摄影",
    "供稿",
    "文图",
    "文/图",
    "文",
    "图",
    "摄",
)
# a role word at the start of a byline token: "记者王斌" → "王斌" (never inside a name: 田洪文)
ROLE_PREFIX_RE = re.compile("^(?:" + "|".join(map(re.escape, ROLE_WORDS)) + ")")
# a job title glued before a name in a byline: "研究部部长、研究员徐占忱", "XX大学教授张三" (up to the last one)
JOB_TITLES = (
    "研究员|教授|讲师|主任|部长|院长|所长|局长|处长|书记|主席|总编辑|总经理|评论员|分析师|经济学家|博士|律师|医师"
)
JOB_TITLE_PREFIX_RE = re.compile(rf"^.*(?:{JOB_TITLES})(?=[\u4e00-\u9fff]{{2,4}}$)")
JOB_TITLE_RE = re.compile(rf"^(?:{JOB_TITLES})$")  # a title alone is no name
# the next label ends a value even with no space before it: "来源:福清新闻网作者:颜阵寒点击:次"
# (a label needs its colon: "上海发布" and "日报编辑部" are sources, not labels)
NEXT_LABEL = r"(?=[\s|｜丨【\[\]】)）]|(?:作者|记者|通讯员|责任编辑|编辑|发布时间|发布日期|时间|日期|浏览|点击|阅读|访问)(?:次数|数|量)?[:：]|$)"
# the publishing office of a government information page (发布机构) is its source too
SOURCE_RE = re.compile(
    rf"(?:来源|信息来源|文章来源|稿件来源|来源于|发布机构|发布单位|供稿单位){C}\s*([^\s|｜丨【\[]+?){NEXT_LABEL}"
)
# an editor label takes a colon, a bar or a slash ("编辑|禤志杰", "编辑/苏芳"); a staff code after the name
# ("杨倩_NF4425", "韩保林 PK155") is not part of it
EDITOR_RE = re.compile(
    rf"(?:责任编辑|值班编辑|网络编辑|编辑|责编|选稿)(?:{C}|[|｜/／])\s*"
    rf"([A-Z][a-z]+(?: [A-Z][a-z]+){{1,2}}(?![A-Za-z])|[^\s|｜丨【\[\]】()（）_]+?)"  # a Latin name keeps its space
    rf"(?:_[A-Za-z]{{1,4}}\d+)?{NEXT_LABEL}"
)
AUTHOR_LABEL_RE = re.compile(
    rf"(?:作者|记者|撰稿人?|采写|执笔)(?:{C}|/)\s*([^|｜丨]+?)(?=\s*(?:[|｜丨]|来源|责任编辑|编辑|发布|时间|日期|浏览|点击|$))"
)
# "澎湃新闻记者 段彦超 廖艳" in an info line: a reporter word, a space, then names
REPORTER_RE = re.compile(
    r"(?:记者|通讯员)\s+((?:[\u4e00-\u9fff·]{2,4}|[\u4e00-\u9fff]\s{1,3}[\u4e00-\u9fff])(?:\s+(?:[\u4e00-\u9fff·]{2,4}|[\u4e00-\u9fff]\s{1,3}[\u4e00-\u9fff]))*)(?=\s|$)"
)
# what follows a reporter's name in a Taiwan or agency byline: "林悦／南市报导", "温贵香台北21日电"
REPORT_TAIL_RE = re.compile(
    r"\s*[/／]\s*[\u4e00-\u9fff]{1,5}(?:报导|報導|报道|報道)$|[\u4e00-\u9fff]{2}\d{1,2}日(?:电|電)$"
)
# the outlet a reporter works for, before the role word: "中央社记者", "《中国企业家》记者", "澎湃新闻记者"
OUTLET_RE = re.compile(r"(《[^》]{2,12}》|[\u4e00-\u9fff][\u4e00-\u9fff·]{1,9}?)\s*(?:见习|实习|特约|专栏)?记者")
# everything up to a reporter word inside one token: the outlet and the role, not the name
OUTLET_PREFIX_RE = re.compile(r"^.*(?:记者|記者|通讯员|通訊員)")
OWN_OUTLET = frozenset({"本报", "本台", "本网", "本站", "本刊", "本社"})
# a photo or image credit glued to a name: "李妍摄"
CREDIT_SUFFIX_RE = re.compile("(?<=[\u4e00-\u9fff]{2})(?:摄|图)$")
KEYWORDS_RE = re.compile(rf"^\s*(?:关键词|关键字|相关热词|标签|热词|Tags?){C}\s*(.*)$", re.IGNORECASE)
SUMMARY_RE = re.compile(r"^\s*[\[【〔(（]?\s*(?:摘要|内容摘要|导读|核心提示)\s*[\]】〕)）:：]\s*(.+)$")
EDITOR_LINE_RE = re.compile(r"^\s*[\[【(（]?(?:责任编辑|值班编辑|网络编辑|编辑|责编|选稿|审核|校对|初审|终审)[:：]")
# a credit line of the article: its source (and author), closing the text
# (never 记者： — in an interview it names the speaker: "记者：您怎么看？")
CREDIT_LINE_RE = re.compile(r"^\s*[（(【\[]?\s*(?:本文|文章|稿件)?(?:来源|来源于|作者)[:：][^。？！]*$")
INFO_LABEL_RE = re.compile(
    rf"(?:来源|信息来源|发布机构|最新更新|发布时间|发布日期|发表时间|更新时间|成文日期|时间|日期|作者|浏览次数|点击数|阅读次数|访问量){C}"
)
# a byline: only role words and names, e.g. "□ 实习记者 寇静 记者 王斌 通讯员 田莉 白为"
BYLINE_RE = re.compile(
    r"^[□■●◆▲\s本报]*(?:[\u4e00-\u9fff·《》]{0,10}?(?:见习记者|实习记者|特约记者|本报记者|通讯员|记者|作者|采写|执笔|摄影|摄|文|图)\s*[:：/]?\s*"
    r"(?:[\u4e00-\u9fff·]{2,4}\s*[、，,&]?\s*|[\u4e00-\u9fff]\s{1,3}[\u4e00-\u9fff]\s*)+)+"
    r"(?:[/／][\u4e00-\u9fff]{1,5}报导)?$"
)
# "(文/田洪文 蒋超 张宇 王月华)" closing a paragraph, or "(记者：颜阵寒)" anywhere
# (both scripts: these run on body lines in the output script)
TRAILING_BYLINE_RE = re.compile(
    r"[（(]\s*(?:文|图|圖|文/图|文/圖|文图|撰稿|供稿|记者|記者|通讯员|通訊員)\s*[/／:：]\s*([^（）()]{2,40})[）)]\s*$"
)
# "（编辑：苏龙麒）1120221" closing a paragraph (a news agency's style): the editor, the credit stays in the text
TRAILING_EDITOR_RE = re.compile(
    r"[（(【]\s*(?:责任编辑|编辑|责编)\s*[:：/]\s*([^（）()【】]{2,12})[）)】]\s*\d{0,12}\s*$"
)
# "（记者 颜阵寒）", "（中央社记者温贵香台北21日电）": group 1 the outlet before the role word, group 2 the names
INLINE_BYLINE_RE = re.compile(
    r"[（(【]\s*([\u4e00-\u9fff·《》]{0,10}?)(?:见习|实习|特约|专栏)?(?:记者|通讯员|作者|文)\s*[:：/]?\s*([^（）()【】]{2,30})[）)】]"
)
# the dateline that opens a news story: "新华社北京5月1日电", "中新网5月1日电", "新京报快讯", "腾讯音乐讯"
DATELINE_RE = re.compile(
    r"^\s*([\u4e00-\u9fffA-Za-z]{1,8}?(?:社|网|报|台|新闻|在线|客户端|频道|音乐|财经|科技|体育|娱乐))"
    r"(?:[\u4e00-\u9fff]{2,4})?(?:\d{1,2}月\d{1,2}日)?(?:快讯|讯|电)"
)
NAME_RE = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
# a label with its value on the next line ("来源:" / "21世纪经济报道")
LABEL_ONLY_RE = re.compile(r"^\s*(?:来源|信息来源|文章来源|作者|记者|责任编辑|编辑|责编)\s*[:：|｜]?\s*$")
# a label glued to its value without a colon, at the start of a short line ("来源CSDN", "作者魏星")
BARE_LABEL_RE = re.compile(r"^\s*(来源|作者)(?=[^\s:：])")
# where a self-media post says it was published from ("发布于北京经济日报官方账号")
PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|云南"
    "|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
# what is glued to a source name: brackets with a place or a note, "原创", "发布于…", "官方账号", a label
SOURCE_NOISE_RE = re.compile(
    r"[\[【（(][^\]】）)]{0,8}[\]】）)]|^\s*原创\s*|官方账号.*$|\s来自.*$|^(?:本文)?(?:来源于|来源)\s*[:：]?"
    rf"|^\s*发布于[:：]?\s*(?:{PROVINCES})[省市]?|发布于.*$"
)
# a name-like value: CJK, Latin letters, digits, dots and a few joiners, no sentence punctuation
NAME_LIKE_RE = re.compile(
    r"^[\u4e00-\u9fffA-Za-z0-9·・.\-－《》 ]*[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9·・.\-－《》 ]*$"
)
# where an unlabelled value beside a date ends: a bracket, a bar or the next label ("中国新闻网[微博]", "新京报作者：")
VALUE_END_RE = re.compile(r"[\[【(（|｜]|(?:作者|记者|编辑|责任编辑|来源)[:：]")
# a name that is an organisation (a paper, a site, an agency, an office), not a person or an account
ORGANISATION_RE = re.compile(
    r"(?:报|网|社|台|新闻|周刊|杂志|在线|网络版|频道|中心|委员会|委|政府|政协|人大|局|厅|办|室|院|部|处|所|站|队|会|组|司|馆|团"
    r"|校|大学|公司|集团|银行)$"
)
# under a headline: "石佳/中国青年报" (a name, then the paper it wrote for)
NAME_SLASH_OUTLET_RE = re.compile(r"^\s*([\u4e00-\u9fff]{2,4})\s*[/／]\s*([\u4e00-\u9fff·《》]{2,12})\s*$")
# beside a date, after the source and its bracketed note: the name that wrote it ("[微博]单仁平我要评论(0)")
NAME_AFTER_NOTE_RE = re.compile(r"[\]】]\s*([\u4e00-\u9fff]{2,4}?)(?=我要评论|\s|$)")
# a channel or column name ("工作动态", "市政要闻") above a date: neither an account nor an author
COLUMN_NAME_RE = re.compile(
    r"(?:动态|新闻|要闻|资讯|公告|通知|专题|专栏|工作|信息|快讯|头条|视频|图片|评论|观点|首页)$"
)
# words of the widgets that sit beside a date line: never a source
WIDGET_WORD_RE = re.compile(
    r"分享|字号|字体|收藏|关注|举报|评论|阅读|浏览|点击|打印|微博|微信|APP|扫一扫|二维码|\d+\s*次|更新|时间|日期|查看|行情|Facebook|Twitter|LINE|Telegram|WhatsApp|Plurk",
    re.IGNORECASE,
)

# --- dates ------------------------------------------------------------------
DATE_RE = re.compile(
    r"(?<!\d)(?P<year>(?:19|20)\d{2})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?"
    r"(?:\s*[（(]?(?:星期|周|週|礼拜|禮拜)[一二三四五六日天][)）]?)?"  # a weekday: part of the date, never a source
    r"(?:\s*(?P<half>上午|下午|中午|晚上|凌晨|早上)?\s*[T\s-]?\s*(?P<hour>\d{1,2})\s*[:：时]"
    r"\s*(?P<minute>\d{1,2})(?:\s*[:：分]\s*(?P<second>\d{1,2}))?)?"
)
AFTERNOON = ("下午", "晚上", "中午")  # 12-hour clock words that add 12 hours
# the pieces of a date a page sets on lines of their own
YEAR_ONLY_RE = re.compile(r"^\s*(?:19|20)\d{2}\s*年?\s*$")
MONTH_DAY_RE = re.compile(r"^\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*$")
TIME_ONLY_RE = re.compile(r"^\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?\s*$")
MONTH_NAMES = ("一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月")
MONTH_NAME_DATE_RE = re.compile(
    r"(十[一二]月|[一二三四五六七八九十]月)\s*(\d{1,2})(?:st|nd|rd|th)?\s*,?\s*((?:19|20)\d{2})"
)
# a publication time kept in a page script: WeChat articles' ``var ct = "1581517074"``
SCRIPT_TIMESTAMP_RE = re.compile(r"""var ct\s*=\s*["'](\d{10})["']""")
# ... and the account that published it: ``var nickname = "爱否科技"``
SCRIPT_ACCOUNT_RE = re.compile(r"""var nickname\s*=\s*["']([^"'\\<>]{2,30})["']""")
DATE_LABEL_RE = re.compile(rf"(?:发布时间|发布日期|发表时间|发文日期|成文日期|时间|日期){C}\s*")

# --- furniture: (kind, pattern), checked in order --------------------------
FURNITURE: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "breadcrumb",
        re.compile(
            r"^\s*(?:当前位置|您的位置|您现在的位置|您当前的位置|您所在的位置|现在位置|所在位置|位置)\s*[:：]|^\s*(?:网站)?首页\s*(?:[>＞»›→]|-\s|－)"
        ),
    ),
    (
        "login widget",
        re.compile(
            r"^\s*(?:用户名|密码|账号|验证码|登录|注册|忘记密码)\s*[:：]?\s*(?:[|｜]?\s*(?:用户名|密码|登录|注册|忘记密码)\s*[:：]?\s*)*$"
        ),
    ),
    (
        "share widget",
        re.compile(
            r"^\s*(?:分享到|分享至|分享|转发到)\s*[:：]?\s*(?:微信|微博|QQ|QQ空间|朋友圈|腾讯|新浪|人人网|豆瓣|\s|[|｜、，,])*$"
        ),
    ),
    (
        "print/font widgets",
        re.compile(
            r"【?\s*字[号体]\s*[:：]?\s*大\s*中\s*小\s*】?|打印本页|【?打印】?\s*[|｜]|关闭窗口|【关闭】|加入收藏|设为首页|返回顶部|^\s*打印\s*$|^\s*【?(?:我要)?纠错】?\s*(?:$|[|｜])|^\s*【?\s*(?:打印|关闭|收藏)\s*】?(?:\s*[|｜]\s*【?(?:打印|关闭|收藏|发给好友|推荐)】?)+"
        ),
    ),
    ("comment widget", re.compile(r"我来说两句|发表评论|网友评论|^\s*评论\s*$")),
    ("widget", re.compile(r"^\s*\+?(?:字号|关注|收藏|分享|打印|举报|点赞|纠错|推荐|评论\s*\(?\d*\)?)\s*$")),
    ("original title", re.compile(r"^\s*[（(【\[]?\s*(?:本文)?原(?:标)?题[:：]")),
    ("hotline box", re.compile(r"(?:专线|热线|生命线|协谈专线)\s*[:：]?\s*\d[\d-]{3,}")),
    (
        "page widgets",
        re.compile(
            r"^\s*(?:无障碍浏览|长者模式|关怀模式|视力保护色|繁体|简体|扫一扫|点击查看大图|[(（]图片来源[:：][^)）]*[)）]$)|^\s*(?:繁体|简体)\s*[|｜/]\s*(?:繁体|简体)\s*$"
        ),
    ),
    ("more links", re.compile(r"^\s*(?:更多|更多>>|更多》|查看更多|MORE)\s*[>》]*\s*$", re.IGNORECASE)),
    (
        "related links",
        re.compile(
            r"^\s*[【\[]?(?:相关阅读|相关新闻|相关报道|相关链接|相关文章|相关专题|相关推荐|延伸阅读|推荐阅读|热点推荐|热门推荐|热点新闻|热门文章|精彩推荐|猜你喜欢|相关稿件|点击排行|新闻排行|友情链接)[】\]]?\s*[:：]?\s*$"
        ),
    ),
    (
        "pagination",
        re.compile(
            r"^\s*(?:上一篇|下一篇)\s*[:：]|^\s*(?:上一篇|下一篇)(?:\s*[|｜]?\s*(?:上一篇|下一篇))*\s*$|^\s*(?:上一页|下一页|首页|尾页)(?:\s+(?:上一页|下一页|首页|尾页|\d+))*\s*$"
        ),
    ),
    (
        "disclaimer",
        re.compile(
            r"仅代表作者(?:个人)?观点|本网只是转载|本网转载|如涉及作品内容|免责声明|不代表本网|版权问题.*联系|请及时联系我们"
        ),
    ),
    (
        "copyright/ICP footer",
        re.compile(
            r"版权所有|Copyright|\(C\)|©|ICP备|ICP证|备案号|备\d{6,}号|公网安备|网站标识码|(?:主办|承办|协办)(?:单位)?[:：]|许可证(?:号|编号)?[:：]|举报电话|举报邮箱|不得转载|未经.{0,20}授权.{0,10}(?:转载|使用|复制|摘编|刊登|链接|镜像)|All Rights Reserved",
            re.IGNORECASE,
        ),
    ),
)
# kinds that are widgets: they match a short line only, never words inside a sentence ("…也没有发表评论。")
WIDGET_KINDS = frozenset(
    {
        "login widget",
        "share widget",
        "print/font widgets",
        "comment widget",
        "widget",
        "more links",
        "related links",
        "pagination",
        "hotline box",
    }
)
WIDGET_MAX = 40
# a line of running text (this long, this many sentence ends) is never a footer: a statute on one line
SENTENCES_MIN, SENTENCES_LEN = 3, 150
SENTENCE_MARK_RE = re.compile("[。！？]")
# kinds that, once the body has started, mean the article is over
END_KINDS = frozenset(
    {
        "hotline box",
        "share widget",
        "print/font widgets",
        "comment widget",
        "more links",
        "related links",
        "pagination",
        "disclaimer",
        "copyright/ICP footer",
        "editor line",
        "keywords line",
    }
)

# --- injected SEO spam ------------------------------------------------------
SPAM_WORDS = (
    "无码",
    "有码",
    "成人",
    "色情",
    "黄色",
    "情色",
    "激情",
    "一区二区",
    "二区三区",
    "久久",
    "AV",
    "av",
    "国产成人",
    "亚洲",
    "欧美",
    "日韩",
    "免费看",
    "在线观看",
    "视频免费",
    "中文字幕",
    "偷拍",
    "自拍",
    "萝莉",
    "porn",
    "xxx",
    "博彩",
    "赌场",
    "彩票",
    "六合彩",
    "时时彩",
    "百家乐",
    "娱乐城",
    "澳门",
    "棋牌",
    "开户",
    "赌博",
    "老虎机",
    "体育投注",
)
SPAM_RE = re.compile("|".join(map(re.escape, SPAM_WORDS)))
# an SEO keyword line: three or more short phrases joined by "_", no sentence punctuation
SEO_KEYWORDS_RE = re.compile(r"^[^\s_，。！？,.!?]{2,14}(?:_[^\s_，。！？,.!?]{2,14}){2,}$")
# a line that ends a sentence (a body paragraph); headlines in a related-links list do not
SENTENCE_END_RE = re.compile(r"[。！？!?…”\"）)]\s*$")
LIST_ITEM_RE = re.compile(
    r"^\s*(?:[-·•●◆■>]\s*)?[\[【(（]?\d{2,4}[-/.]\d{1,2}(?:[-/.]\d{1,2})?[\]】)）]?\s*\S|^\s*[-·•●◆■]\s*\S"
)
