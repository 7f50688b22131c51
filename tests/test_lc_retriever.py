"""Our retrieval as a LangChain retriever inside a user's own LCEL chain."""

from __future__ import annotations

from langchain_core.language_models.fake import FakeListLLM
from langchain_core.prompts import PromptTemplate
from langchain_core.runnables import RunnablePassthrough

from conftest import SHUIKOU
from rag.lc_retriever import ReportRetriever
from rag.pipeline import Pipeline

WAWU = "001_e78c042d1c9dcf59.txt"


def test_documents_carry_exact_spans_and_are_scoped(extractive: Pipeline) -> None:
    retriever = ReportRetriever(pipeline=extractive, k=4)
    docs = retriever.invoke("瓦屋镇开展了多少场法治宣传活动？")
    assert 0 < len(docs) <= 4
    assert {d.metadata["source"] for d in docs} == {WAWU}  # the town named scopes retrieval
    for d in docs:
        report = extractive.reports[d.metadata["source"]].text
        assert report[d.metadata["start"] : d.metadata["end"]] == d.page_content
    assert any("8余场次" in d.page_content for d in docs)
    assert docs[0].metadata["year"] == 2023 and docs[0].metadata["rank"] == 1


def test_filters_and_grounding(extractive: Pipeline) -> None:
    scoped = ReportRetriever(pipeline=extractive, reports=(SHUIKOU,))
    assert {d.metadata["source"] for d in scoped.invoke("执法培训")} == {SHUIKOU}
    # a town no report covers, or a year no report covers: nothing to use
    assert ReportRetriever(pipeline=extractive).invoke("城关镇开展了几次执法培训？") == []
    assert ReportRetriever(pipeline=extractive).invoke("水口镇2021年开展了几次执法培训？") == []


def test_in_a_users_lcel_chain(extractive: Pipeline) -> None:
    seen: list[str] = []

    def join(docs: list) -> str:  # type: ignore[type-arg]
        text = "\n\n".join(d.page_content for d in docs)
        seen.append(text)
        return text

    prompt = PromptTemplate.from_template("资料：{context}\n问题：{question}\n回答：")
    chain = (
        {"context": ReportRetriever(pipeline=extractive) | join, "question": RunnablePassthrough()}
        | prompt
        | FakeListLLM(responses=["15次"])
    )
    assert chain.invoke("水口镇对执法人员进行了多少次执法培训？") == "15次"
    assert "执法培训15次" in seen[0]
