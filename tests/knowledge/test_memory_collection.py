"""The in-memory collection behaves as Chroma does for ingestion and retrieval."""

from pathlib import Path
from typing import Any

import pytest

from assistant.settings import Settings
from knowledge.embeddings import WordLlamaEmbedder
from knowledge.ingest import Ingestor
from knowledge.memory import MemoryCollection
from knowledge.retrieval import Retriever
from knowledge.store import chroma_client, open_collection

QUESTIONS = [
    "how long do I have to send something back",
    "who signs off on a vendor invoice over fifty thousand",
    "my account is locked after too many password attempts",
    "can we automate closing a customer's account",
    "set up single sign-on with our identity provider",
]


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ingestor]:
    """Return the shipped library ingested into Chroma and into the in-memory twin."""
    library = Settings().library
    embedder = WordLlamaEmbedder()
    chroma = open_collection(chroma_client(path=tmp_path_factory.mktemp("chroma")), "twins")
    ingestors = {
        "chroma": Ingestor(chroma, embedder),
        "memory": Ingestor(MemoryCollection(), embedder),
    }
    for ingestor in ingestors.values():
        ingestor.ingest(library, root_key="library")
    return ingestors


def cited(ingestor: Ingestor, question: str, **options: Any) -> list[tuple[str, float]]:
    """Return the documents retrieval cites for ``question``, with rounded scores."""
    passages = Retriever(ingestor.collection, ingestor.embedder).search(question, **options)
    return [(p.doc, round(p.score, 3)) for p in passages]


def test_the_twin_stores_the_same_chunks(twins: dict[str, Ingestor]) -> None:
    chroma, memory = twins["chroma"].collection, twins["memory"].collection
    assert memory.count() == chroma.count() > 200
    assert twins["memory"].manifest("library") == twins["chroma"].manifest("library")


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_twin_cites_what_chroma_cites(twins: dict[str, Ingestor], question: str) -> None:
    assert cited(twins["memory"], question) == cited(twins["chroma"], question)
    only_faq = cited(twins["memory"], question, kinds=["faq"], k=3)
    assert only_faq == cited(twins["chroma"], question, kinds=["faq"], k=3)
    assert all(doc.startswith("faq/") for doc, _ in only_faq)


def test_the_twin_reassembles_whole_documents(twins: dict[str, Ingestor]) -> None:
    def bodies(ingestor: Ingestor) -> list[str]:
        retriever = Retriever(ingestor.collection, ingestor.embedder)
        return [p.document for p in retriever.with_documents(retriever.search(QUESTIONS[0]))]

    assert bodies(twins["memory"]) == bodies(twins["chroma"])


def test_reingesting_into_the_twin_writes_nothing_and_changes_replace(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    page = "---\ntitle: Gift cards\nkind: faq\n---\n\n{}\n"
    (docs / "gift.md").write_text(page.format("Gift cards never expire and work online. " * 30))
    ingestor = Ingestor(MemoryCollection(), WordLlamaEmbedder())
    assert ingestor.ingest(docs).added > 1
    assert ingestor.ingest(docs).chunks_written == 0
    (docs / "gift.md").write_text(page.format("Gift cards expire after 12 months."))
    changed = ingestor.ingest(docs)
    assert changed.updated >= 1 and changed.added == 0
    stored = ingestor.collection.get()["documents"]
    assert any("expire after 12 months" in text for text in stored)
    assert not any("never expire" in text for text in stored)
    (docs / "gift.md").unlink()
    assert ingestor.ingest(docs).removed == changed.updated and ingestor.collection.count() == 0


def test_the_twin_refuses_what_chroma_refuses() -> None:
    collection = MemoryCollection()
    collection.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["x"], metadatas=[{"k": 1}])
    with pytest.raises(ValueError, match="already"):
        collection.add(ids=["a"], embeddings=[[0.0, 1.0]])
    with pytest.raises(ValueError, match="operator"):
        collection.get(where={"k": {"$like": 1}})
