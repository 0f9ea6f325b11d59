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
# the next label ends a value even with no space before it: "来源:福清新闻网作者:颜阵寒点击:次"
# (a label needs its colon: "上海发布" and "日报编辑部" are sources, not labels)
NEXT_LABEL = r"(?=[\s|｜丨【\[]|(?:作者|记者|通讯员|责任编辑|编辑|发布时间|发布日期|时间|日期|浏览|点击|阅读|访问)(?:次数|数|量)?[:：]|$)"
SOURCE_RE = re.compile(rf"(?:来源|信息来源|文章来源|稿件来源|来源于){C}\s*([^\s|｜丨【\[]+?){NEXT_LABEL}")
EDITOR_RE = re.compile(rf"(?:责任编辑|值班编辑|网络编辑|编辑|责编){C}\s*([^\s|｜丨【\[]+?){NEXT_LABEL}")
AUTHOR_LABEL_RE = re.compile(
    rf"(?:作者|记者|撰稿人?){C}\s*([^|｜丨]+?)(?=\s*(?:[|｜丨]|来源|责任编辑|编辑|发布|时间|日期|浏览|点击|$))"
)
KEYWORDS_RE = re.compile(rf"^\s*(?:关键词|关键字|相关热词|标签|热词|Tags?){C}\s*(.*)$", re.IGNORECASE)
SUMMARY_RE = re.compile(r"^\s*[\[【〔(（]?\s*(?:摘要|内容摘要|导读|核心提示)\s*[\]】〕)）:：]\s*(.+)$")
EDITOR_LINE_RE = re.compile(r"^\s*[\[【(（]?(?:责任编辑|值班编辑|网络编辑|编辑|责编|审核|校对|初审|终审)[:：]")
INFO_LABEL_RE = re.compile(
    rf"(?:来源|信息来源|发布时间|发布日期|发表时间|更新时间|时间|日期|作者|浏览次数|点击数|阅读次数|访问量){C}"
)
# a byline: only role words and names, e.g. "□ 实习记者 寇静 记者 王斌 通讯员 田莉 白为"
BYLINE_RE = re.compile(
    r"^[□■●◆▲\s本报]*(?:(?:实习记者|特约记者|本报记者|通讯员|记者|作者|摄影|摄|文|图)\s*[:：/]?\s*"
    r"(?:[\u4e00-\u9fff·]{2,4}\s*[、，,]?\s*)+)+$"
)
# "(文/田洪文 蒋超 张宇 王月华)" closing a paragraph, or "(记者：颜阵寒)" anywhere
# (both scripts: these run on body lines in the output script)
TRAILING_BYLINE_RE = re.compile(
    r"[（(]\s*(?:文|图|圖|文/图|文/圖|文图|撰稿|供稿|记者|記者|通讯员|通訊員)\s*[/／:：]\s*([^（）()]{2,40})[）)]\s*$"
)
INLINE_BYLINE_RE = re.compile(
    r"[（(]\s*(?:本报|本報)?(?:记者|記者|通讯员|通訊員|实习记者|實習記者)\s*[:：/]?\s*([^（）()]{2,30})[）)]"
)
NAME_RE = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")

# --- dates ------------------------------------------------------------------
DATE_RE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*[T\s-]?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
)
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
            r"^\s*[【\[]?(?:相关阅读|相关新闻|相关链接|相关文章|延伸阅读|推荐阅读|热点推荐|猜你喜欢|相关稿件)[】\]]?\s*[:：]?\s*$"
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
            r"版权所有|Copyright|\(C\)|©|ICP备|ICP证|备案号|备\d{6,}号|公网安备|网站标识码|主办单位|承办单位|主办[:：]|许可证|举报电话|举报邮箱|不得转载|未经.{0,20}授权|All Rights Reserved",
            re.IGNORECASE,
        ),
    ),
)
# kinds that, once the body has started, mean the article is over
END_KINDS = frozenset(
    {
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
