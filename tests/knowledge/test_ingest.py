"""Incremental ingestion: unchanged files write nothing, changes replace, deletions remove."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import Settings
from knowledge.embeddings import WordLlamaEmbedder
from knowledge.ingest import Ingestor, UnsupportedFile
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


def test_symlinks_out_of_the_root_are_skipped_and_reported(
    tmp_path: Path, ingestor: Ingestor
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("Root password is hunter2, kept for emergencies.")
    write(docs, "ok.md", "Fine", "A fine document about returns. " * 10)
    (docs / "passwd.md").symlink_to("/etc/passwd")
    (docs / "secret.md").symlink_to(outside / "secret.md")
    (docs / "elsewhere").symlink_to(outside, target_is_directory=True)
    (docs / "again.md").symlink_to(docs / "ok.md")  # inside the root: fine

    report = ingestor.ingest(docs)

    texts = " ".join(ingestor.collection.get(include=["documents"])["documents"])
    assert "hunter2" not in texts and "root:x:0" not in texts
    stored = {m["doc"] for m in ingestor.collection.get(include=["metadatas"])["metadatas"]}
    assert stored == {"ok.md", "again.md"}
    assert any("passwd.md" in s and "outside" in s for s in report.skipped)
    assert any("secret.md" in s for s in report.skipped)
    assert "skipped" in report.summary()


def test_a_single_file_must_be_markdown_or_text(tmp_path: Path, ingestor: Ingestor) -> None:
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(b"%PDF-1.7 binary")
    with pytest.raises(UnsupportedFile, match=r"contract\.pdf.*\.md"):
        ingestor.ingest(pdf)
    assert ingestor.collection.count() == 0

    notes = tmp_path / "notes.txt"
    notes.write_text("Parcel lockers hold parcels for 72 hours before they go back.")
    assert ingestor.ingest(notes).added > 0


def test_a_folder_ingests_only_markdown_and_text(tmp_path: Path, ingestor: Ingestor) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write(docs, "ok.md", "Fine", "A fine document about returns. " * 10)
    (docs / "notes.txt").write_text("Gift cards never expire and work online.")
    (docs / "script.py").write_text("print('not a document')")
    ingestor.ingest(docs)
    stored = {m["doc"] for m in ingestor.collection.get(include=["metadatas"])["metadatas"]}
    assert stored == {"ok.md", "notes.txt"}


def test_files_over_the_size_limit_are_skipped_naming_the_setting(tmp_path: Path) -> None:
    collection = open_collection(chroma_client(path=tmp_path / "chroma"), "small_docs")
    small = Ingestor(collection, WordLlamaEmbedder(), max_bytes=1024 * 1024 // 100)
    docs = tmp_path / "docs"
    docs.mkdir()
    write(docs, "big.md", "Big", "Gift cards never expire and work online. " * 300)
    write(docs, "ok.md", "Fine", "A fine document about returns.")

    report = small.ingest(docs)

    stored = {m["doc"] for m in collection.get(include=["metadatas"])["metadatas"]}
    assert stored == {"ok.md"}
    [message] = report.skipped
    assert (
        "big.md" in message and "FLOWDRAFT_INGEST_MAX_MB" in message and "0.01 MB limit" in message
    )


def test_the_size_limit_is_a_setting() -> None:
    assert Settings().ingest_max_mb == 5
    assert Settings(ingest_max_mb=0.5).ingest_max_bytes == 512 * 1024


def test_a_large_file_is_stored_whole_in_order(tmp_path: Path, ingestor: Ingestor) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    body = "\n\n".join(
        f"Section {n} says parcels wait {n} hours in locker {n}." for n in range(4000)
    )
    write(docs, "handbook.md", "Handbook", body)

    report = ingestor.ingest(docs)

    retriever = Retriever(ingestor.collection, ingestor.embedder)
    [passage] = retriever.with_documents(retriever.search("locker 3999", k=1))
    whole = passage.document
    assert report.added == ingestor.collection.count()
    assert "Section 0 says" in whole and "Section 3999 says parcels wait 3999 hours" in whole
    assert whole.index("Section 1999 says") < whole.index("Section 2000 says")


@pytest.mark.integration
def test_the_ingest_command_refuses_other_files_and_reports_skips(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write(docs, "ok.md", "Fine", "A fine document about returns. " * 10)
    (docs / "passwd.md").symlink_to("/etc/passwd")
    (tmp_path / "slides.pptx").write_bytes(b"PK\x03\x04")
    env = {**os.environ, "FLOWDRAFT_HOME": str(tmp_path / "home")}

    def flowdraft(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "assistant.cli", "ingest", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)

    refused = flowdraft(str(tmp_path / "slides.pptx"))
    assert refused.returncode == 1
    assert "slides.pptx: only markdown and text files can be ingested" in refused.stderr

    done = flowdraft(str(docs))
    assert done.returncode == 0, done.stderr
    assert "1 files" in done.stdout and "1 skipped" in done.stdout
    assert "passwd.md: a symlink to a file outside" in " ".join(done.stderr.split())


def test_chunks_store_only_what_retrieval_reads(tmp_path: Path, ingestor: Ingestor) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    write(folder, "refunds.md", "Refunds", "Refunds over $500 need a manager.\n\n" * 3)
    ingestor.ingest(folder)
    stored = ingestor.collection.get(include=["metadatas", "documents"])
    assert stored["ids"] and all(stored["documents"])
    for meta in stored["metadatas"]:
        assert {"doc", "title", "kind", "root", "chunks", "seq", "part"} <= set(meta)
        assert not any(key.startswith("_node") for key in meta)  # no serialised node copy
