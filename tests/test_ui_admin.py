"""Upload validation and indexing, and the users file with roles."""

from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import ConfigError
from rag.factory import open_pipeline
from rag.index.build import build_index
from rag.ingest.chunk import ChunkerSettings
from ui.upload import UploadError, add_report, validate
from ui.users import check_password, hash_password, load_users

NEW = "测试镇人民政府关于2024年法治政府建设情况的报告\n\n2024年，测试镇开展防诈骗宣讲活动77场。\n"


@pytest.fixture
def corpus(reports_copy: Path, tmp_path: Path) -> tuple[Path, Path, Settings]:
    index = tmp_path / "index"
    build_index(reports_copy, index, None, ChunkerSettings())
    return reports_copy, index, Settings(embed_model="none", llm_backend="none")


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "upload" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("a.exe", b"x", "文件类型 .exe 不在"),
        ("empty.txt", b"", "文件是空的"),
        ("big.txt", b"x" * (2 * 2**20 + 1), "超过 2 MB 的上限"),
        ("000_4e493ef760f0cb20.txt", NEW.encode(), "已有同名报告"),
        ("scan.pdf", b"%PDF-1.4 junk", "scan.pdf"),
        ("../evil.txt", NEW.encode(), "不是单纯的文件名"),
    ],
)
def test_uploads_are_validated(
    corpus, tmp_path: Path, name: str, data: bytes, message: str
) -> None:  # type: ignore[no-untyped-def]
    reports, _, _ = corpus
    upload = _file(tmp_path, Path(name).name, data)
    with pytest.raises(UploadError, match=message.replace(".", r"\.")):
        validate(upload, name, reports, max_mb=2)


def test_an_upload_is_indexed_incrementally(corpus, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reports, index, settings = corpus
    upload = _file(tmp_path, "900_new.txt", NEW.encode("gb18030"))  # GBK-family text is fine
    steps: list[str] = []
    summary = add_report(
        upload, "900_new.txt", settings, reports, index, 2, lambda s, i, n: steps.append(s)
    )
    assert (reports / "900_new.txt").exists()
    assert summary.new_reports == ["900_new.txt"] and len(summary.reused_reports) == 5
    a = open_pipeline(settings, index).ask("测试镇开展了多少场防诈骗宣讲活动？")
    assert "77场" in a.text and a.citations[0].source == "900_new.txt"
    assert not list(reports.glob(".*uploading"))


def test_users_file(tmp_path: Path) -> None:
    stored = hash_password("s3cret")
    assert check_password("s3cret", stored) and not check_password("wrong", stored)
    assert not check_password("s3cret", "plain-text")
    path = tmp_path / "users.toml"
    path.write_text(
        f'[users.zhang]\nrole = "supervisor"\npassword = "{stored}"\n'
        f'[users.li]\nrole = "staff"\npassword = "{stored}"\n',
        encoding="utf-8",
    )
    users = load_users(path)
    assert users["zhang"].can("review") and not users["zhang"].can("upload")
    assert users["li"].can("ask") and not users["li"].can("review")
    path.write_text('[users.x]\nrole = "boss"\npassword = "scrypt$00$00"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"users\.x\.role must be one of"):
        load_users(path)
    path.write_text('[users.x]\nrole = "admin"\npassword = "hunter2"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="rag hash-password"):
        load_users(path)


def test_hash_password_command() -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    result = CliRunner().invoke(app, ["hash-password"], input="s3cret\ns3cret\n")
    assert result.exit_code == 0, result.output
    stored = result.output.strip().splitlines()[-1]
    assert stored.startswith("scrypt$") and check_password("s3cret", stored)
    assert "s3cret" not in result.output.replace(stored, "")  # the prompt hides the input
