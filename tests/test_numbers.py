import pytest

from rag.text.numbers import Quantity, normalize, quantities, same_quantity


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("对执法人员共进行执法培训15次,法律法规知识测试6次", ["15次", "6次"]),
        ("十五次", ["15次"]),
        ("一千三百零五件次", ["1305件次"]),
        ("办理1305件次", ["1305件次"]),
        ("1.2万", ["12000"]),
        ("1.2万元", ["12000元"]),
        ("百分之百", ["100%"]),
        ("百分之九十五点五", ["95.5%"]),
        ("覆盖率达100％", ["100%"]),  # full-width percent sign
        ("培训３０场", ["30场"]),  # full-width digits
        ("两千人", ["2000人"]),
        ("1,234人", ["1234人"]),
        ("受理案件100余件", ["≈100件"]),
        ("20多场", ["≈20场"]),
        ("近20次", ["≈20次"]),
        ("约三十人", ["≈30人"]),
        ("解决问题5.4万余个", ["≈54000个"]),
        ("一是加强学习，统一思想，进一步提升", []),  # words, not numbers
        ("2023年", ["2023年"]),
        ("受教育率到九成五", ["95%"]),  # tenths: 九成五 = 95%
        ("八成以上", ["≈80%"]),
        ("形成合力，一成不变，完成三项", ["3项"]),  # 成 in words is no share
    ],
)
def test_quantities(text: str, labels: list[str]) -> None:
    assert [q.label() for q in quantities(text)] == labels


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("十五次", "15次", True),
        ("1.2万", "12000", True),
        ("百分之百", "100%", True),
        ("15次", "16次", False),
        ("100余件", "105件", True),  # approximate: within 10%
        ("近20次", "19次", True),
        ("100余件", "150件", False),
        ("15场", "15次", True),  # units are not compared
    ],
)
def test_same_quantity(a: str, b: str, same: bool) -> None:
    (qa,), (qb,) = quantities(a), quantities(b)
    assert same_quantity(qa, qb) is same


def test_same_quantity_is_symmetric() -> None:
    a, b = Quantity(100, "件", True, "100余件"), Quantity(108, "件", False, "108件")
    assert same_quantity(a, b) and same_quantity(b, a)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("开展 十五 次", "开展15次"),
        ("群众受教育率达百分之百", "群众受教育率达100%"),
        ("１５次", "15次"),
        ("1,305件次", "1305件次"),
        ("一是加强", "一是加强"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected
