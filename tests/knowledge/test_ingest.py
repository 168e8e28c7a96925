"""Incremental ingestion: unchanged files write nothing, changes replace, deletions remove."""

from pathlib import Path

import pytest

from knowledge.embeddings import WordLlamaEmbedder
from knowledge.ingest import Ingestor
from knowledge.retrieval import Retriever
from knowledge.store import chroma_client, open_collection

DOC = """---
title: {title}
kind: faq
tags: [test]
---

{body}
"""


def write(folder: Path, name: str, title: str, body: str) -> None:
    (folder / name).write_text(DOC.format(title=title, body=body))


@pytest.fixture
def ingestor(tmp_path: Path) -> Ingestor:
    collection = open_collection(chroma_client(path=tmp_path / "chroma"), "test_docs")
    return Ingestor(collection, WordLlamaEmbedder())


def test_incremental_ingestion(tmp_path: Path, ingestor: Ingestor) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write(docs, "parcels.md", "Parcel lockers", "Parcels wait in the locker for 72 hours. " * 40)
    write(docs, "gift.md", "Gift cards", "Gift cards never expire and work online. " * 40)

    first = ingestor.ingest(docs)
    assert first.files == 2 and first.added > 2 and first.updated == first.removed == 0

    again = ingestor.ingest(docs)
    assert again.unchanged == 2 and again.chunks_written == 0 and again.removed == 0

    write(docs, "gift.md", "Gift cards", "Gift cards expire after 12 months. " * 5)
    changed = ingestor.ingest(docs)
    assert changed.unchanged == 1 and changed.updated > 0 and changed.added == 0

    (docs / "parcels.md").unlink()
    removed = ingestor.ingest(docs)
    assert removed.removed > 0
    stored = ingestor.collection.get(include=["metadatas"])
    assert {m["doc"] for m in stored["metadatas"]} == {"gift.md"}
    texts = ingestor.collection.get(include=["documents"])["documents"]
    assert not any("never expire" in t for t in texts)


def test_bad_front_matter_is_reported_and_skipped(tmp_path: Path, ingestor: Ingestor) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody")
    write(docs, "ok.md", "Fine", "A fine document about returns. " * 10)
    report = ingestor.ingest(docs)
    assert report.files == 2 and len(report.errors) == 1 and "broken.md" in report.errors[0]


def test_search_filters_by_kind_and_returns_contract_sources(
    tmp_path: Path, ingestor: Ingestor
) -> None:
    docs = tmp_path / "docs"
    (docs / "faq").mkdir(parents=True)
    (docs / "policies").mkdir()
    (docs / "faq" / "lockers.md").write_text(
        "---\ntitle: Lockers\n---\nParcel lockers hold parcels for 72 hours."
    )
    (docs / "policies" / "retention.md").write_text(
        "---\ntitle: Retention\n---\nParcel data is kept for 7 years."
    )
    ingestor.ingest(docs)
    retriever = Retriever(ingestor.collection, ingestor.embedder)
    everything = retriever.search("how long are parcels kept", k=5)
    assert {p.doc for p in everything} == {"faq/lockers.md", "policies/retention.md"}
    only_policies = retriever.search("how long are parcels kept", kinds=["policy"], k=5)
    assert [p.doc for p in only_policies] == ["policies/retention.md"]
    source = only_policies[0].source().model_dump()
    assert set(source) == {"doc", "title", "score"} and source["title"] == "Retention"
    full = retriever.with_documents(only_policies)[0]
    assert "7 years" in full.document
