"""Answer: the sources of a question and their ranked sentences (`sources`), the one answer
decision (`decide`), and the answerers (extractive; an LLM through a LangChain chain)."""
