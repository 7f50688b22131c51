from pathlib import Path

import pytest

from rag.ingest.metadata import parse_date
from rag.ingest.reader import load_report
from rag.types import Places, ReportMeta

SAMPLES = Path(__file__).parent.parent / "data" / "reports"

EXPECTED = {
    "000_4e493ef760f0cb20.txt": dict(
        title="江华瑶族自治县水口镇人民政府关于2024年法治政府建设情况的报告",
        title_synthesized=True,
        issuer="江华瑶族自治县水口镇人民政府",
        places=Places(county="江华瑶族自治县", town="水口镇"),
        year=2024,
        published="2025-03-24",
        index_no=None,
        doc_no=None,
    ),
    "001_e78c042d1c9dcf59.txt": dict(
        title="鲁山县瓦屋镇人民政府关于2023年法治政府建设情况的报告",
        title_synthesized=False,
        issuer="鲁山县瓦屋镇人民政府",
        places=Places(county="鲁山县", town="瓦屋镇"),
        year=2023,
        published=None,
        index_no=None,
        doc_no=None,
    ),
    "002_437bbe3c0d589296.txt": dict(
        title="金湖县2024年法治政府建设情况的报告",
        title_synthesized=True,
        issuer="金湖县政府办",
        places=Places(county="金湖县"),
        year=2024,
        published="2025-03-07",
        index_no="014351098/2025-00011",
        doc_no=None,
    ),
    "003_bf156fa8c0c17ca2.txt": dict(
        title="三墩镇2019年法治政府建设情况的报告",
        title_synthesized=False,
        issuer="三墩镇",
        places=Places(county="西湖区", town="三墩镇"),
        year=2019,
        published=None,  # the page states its 产生日期 (when it was written), no 发布日期
        written="2020-03-12",
        index_no="00250254-9/2020-04535",
        doc_no=None,
    ),
    "004_ec6daf499c9a8590.txt": dict(
        title="重庆市南岸区峡口镇人民政府关于2024年法治政府建设情况的报告",
        title_synthesized=False,
        issuer="重庆市南岸区峡口镇人民政府",
        places=Places(province="重庆市", county="南岸区", town="峡口镇"),  # a municipality
        year=2024,
        published=None,
        index_no=None,
        doc_no=None,
    ),
}


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_sample_report_metadata(source: str) -> None:
    meta = load_report(SAMPLES / source).meta
    for field, value in EXPECTED[source].items():
        assert getattr(meta, field) == value, field


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2025年3月24日", "2025-03-24"),
        ("2025-03-07", "2025-03-07"),
        ("二〇二五年三月二十四日", "2025-03-24"),
        ("二○二四年十二月三十一日", "2024-12-31"),  # ○ (a circle) for 〇
        ("二〇二五年一二月三日", "2025-12-03"),  # a typo under the 落款 no longer raises
        ("二〇二五年十三月三日", None),
        ("2020.3.12", "2020-03-12"),
        ("2025年13月1日", None),
        ("无日期", None),
    ],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


def test_issuer_and_date_from_signature_block(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text(
        "2022年,我镇扎实推进法治政府建设,取得积极成效,现将有关情况报告如下。\n"
        "一、2022年度主要举措\n开展普法活动20场。\n"
        "某某县某某镇人民政府\n二〇二三年二月十日\n",
        encoding="utf-8",
    )
    meta = load_report(path).meta
    assert meta.issuer == "某某县某某镇人民政府"
    assert meta.published == "2023-02-10"
    assert meta.year == 2022
    assert meta.title == "某某县某某镇人民政府关于2022年法治政府建设情况的报告"
    assert meta.title_synthesized


def test_inline_markup_does_not_hide_the_title_line(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text(
        "[bookmark: _GoBack]某某县某某镇人民政府关于2022年法治政府建设情况的报告\n"
        "2022年,我镇扎实推进法治政府建设,取得积极成效,现将有关情况报告如下。\n"
        "一、主要举措\n开展普法活动20场。\n",
        encoding="utf-8",
    )
    meta = load_report(path).meta
    assert meta.title == "某某县某某镇人民政府关于2022年法治政府建设情况的报告"
    assert not meta.title_synthesized


BODY = (
    "2021年，我街道扎实推进法治政府建设，现将有关情况报告如下。\n一、主要工作\n开展普法活动20场。\n"
)


def _read(tmp_path: Path, head: str) -> ReportMeta:
    path = tmp_path / "r.txt"
    path.write_text(head + BODY, encoding="utf-8")
    return load_report(path).meta


def test_a_label_with_its_value_on_the_next_line_and_the_date_posted_first(
    tmp_path: Path,
) -> None:
    """A site's index table as list items (• 发文日期: / 2022年03月26日): the value is read
    below its label, and the date the page was posted (发布日期) is its publication date
    when the page also gives the date the document was issued (发文日期)."""
    meta = _read(
        tmp_path,
        "乌当区人民政府门户网站\n当前位置: 首页 > 政务公开 > 工作报告\n• 索引号:\n20220402-788434\n"
        "• 发文机构:\n乌当区人民政府办公室\n• 发文日期:\n2022年03月26日 09:00\n• 有效性:\n"
        "• 发布日期:\n2022年04月02日 12:45\n• 内容概述:\n"
        "贵阳市乌当区高新路街道办事处\n关于2021年法治政府建设情况的报告\n",
    )
    assert meta.published == "2022-04-02"
    assert meta.title == "贵阳市乌当区高新路街道办事处关于2021年法治政府建设情况的报告"
    assert meta.year == 2021


def test_the_date_issued_is_the_publication_date_when_no_other_is_given(tmp_path: Path) -> None:
    meta = _read(tmp_path, "发文日期：2022年03月12日\n关于2021年法治政府建设情况的报告\n")
    assert meta.published == "2022-03-12"


def test_a_sites_banner_above_its_breadcrumb_is_not_the_titles_first_line(
    tmp_path: Path,
) -> None:
    meta = _read(
        tmp_path,
        "京山市人民政府\n首页 > 政务公开 > 法治政府建设\n2021年法治政府建设情况报告\n"
        "信息来源：京山市司法局　　发布日期：2022年03月05日\n",
    )
    assert meta.title == "2021年法治政府建设情况报告"


def test_a_labelled_title_wins_over_a_heading_that_puts_a_name_before_it(
    tmp_path: Path,
) -> None:
    meta = _read(
        tmp_path,
        "电白区人民政府门户网站\n名    称：\t2021年法治政府建设工作报告\n"
        "公开日期：\t2022-01-18\n马踏镇2021年法治政府建设工作报告\n",
    )
    assert meta.title == "2021年法治政府建设工作报告"
    assert meta.published == "2022-01-18"


def test_a_sites_author_line_names_the_issuer_when_it_is_a_body(tmp_path: Path) -> None:
    meta = _read(tmp_path, "2021年法治政府建设工作总结\n作者：龙山街道　发布时间：2022-01-08\n")
    assert meta.issuer == "龙山街道" and meta.places.names() == ["龙山街道"]
    meta = _read(tmp_path, "2021年法治政府建设工作总结\n作者：张小明　发布时间：2022-01-08\n")
    assert meta.issuer is None


TOWN_BODY = (
    "2022年，冯庄乡坚持以习近平法治思想为指引，全面推进法治政府建设。\n"
    "一、主要工作\n全年开展普法活动12次，调解矛盾纠纷386件，调解成功率99.1%。\n"
    "二、存在的不足\n法治宣传形式较为单一。\n"
)


@pytest.mark.parametrize(
    ("page", "county"),
    [
        # a county's site publishes its town's report: the footer names the county
        ("冯庄乡2022年度法治政府建设情况报告\n" + TOWN_BODY + "版权所有：通许县人民政府　　豫ICP备39758349号\n",
         "通许县"),
        # the banner, with today's date after it
        ("通许县人民政府 2023年6月21日星期三\n冯庄乡2022年度法治政府建设情况报告\n" + TOWN_BODY, "通许县"),
        # a county the division data does not place 冯庄乡 under is no evidence
        ("冯庄乡2022年度法治政府建设情况报告\n" + TOWN_BODY + "版权所有：鲁山县人民政府\n", None),
        # no site line: the county stays unknown
        ("冯庄乡2022年度法治政府建设情况报告\n" + TOWN_BODY, None),
    ],
)  # fmt: skip
def test_the_sites_government_gives_a_towns_county(
    tmp_path: Path, page: str, county: str | None
) -> None:
    path = tmp_path / "r.txt"
    path.write_text(page, encoding="utf-8")
    places = load_report(path).meta.places
    assert places.town == "冯庄乡" and places.county == county


def test_the_breadcrumb_names_a_placeless_titles_town(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text(
        "您当前的位置: 首页 > 信息公开 > 温泉街道 > 工作总结\n2015年法治政府建设情况报告\n"
        "2015年，街道在市委、市政府的领导下，全力推进法治街道建设。\n一、主要工作\n"
        "街道法律顾问审查合同协议65份，参与处理重大涉法事务11件。\n",
        encoding="utf-8",
    )
    assert load_report(path).meta.places.town == "温泉街道"


def test_a_web_pages_title_and_footer_are_site_lines_though_not_report_text(
    tmp_path: Path,
) -> None:
    """The HTML reader keeps neither <title> nor <footer> in the text, but what they say of
    the site is evidence of the report's county (淮安市清江浦区人民政府 over 城南街道)."""
    page = (
        "<html><head><title>淮安市清江浦区人民政府</title></head><body>"
        "<p>您当前的位置：首页 &gt; 信息公开 &gt; 城南街道 &gt; 工作总结</p>"
        "<p>2021年度法治政府建设情况报告</p>"
        "<p>2021年，城南街道坚持以习近平法治思想为指引，全面推进法治政府建设。</p>"
        "<p>街道党工委召开专题会议研究法治政府建设工作5次，合法性审查率100%。</p>"
        "<footer>版权所有：淮安市清江浦区人民政府</footer></body></html>"
    )
    path = tmp_path / "r.html"
    path.write_text(page, encoding="utf-8")
    report = load_report(path)
    assert report.meta.places.county == "清江浦区" and report.meta.places.town == "城南街道"
    assert "版权所有" not in report.text and "<title>" not in report.text
