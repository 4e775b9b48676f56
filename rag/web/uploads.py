"""Uploaded files: checked one by one, copied into INDEX_DIR/uploads/ and ingested at once (ids `uploads/<name>`).

    add_uploads(index, files) -> UploadResult    the chat's upload event and POST /api/upload both end here
    remove_document(index, id) -> str             the chat's Remove button (an upload's file goes too)

Every file is judged alone: a name reduced to a plain base name, a supported extension, a regular file of at most
RAG_MAX_FILE_MB, at most RAG_MAX_UPLOAD_FILES per call; a rejected or unreadable file gets one line and costs the
others nothing. Not here: whether a path may be read at all (rag.web.guard checks that first), the parsing.
"""

from __future__ import annotations

import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from rag import Index
from rag.documents import SUPPORTED_EXTENSIONS
from rag.web.guard import UPLOADS, safe_name


@dataclass
class UploadResult:
    """What became of each file: the ids ingested, and (name, reason) for each one refused."""

    ingested: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def message(self) -> str:
        """One line per file, for the chat."""
        lines = [f"❌ {name}: {why}" for name, why in self.rejected]
        lines += [f"✅ {doc_id}: ingested, you can ask about it now" for doc_id in self.ingested]
        return "\n\n".join(lines) or "Nothing to upload."

    def to_json(self) -> dict:
        return {"ingested": self.ingested, "rejected": [{"name": n, "error": e} for n, e in self.rejected]}


def add_uploads(index: Index, files: list[Path], names: list[str] | None = None) -> UploadResult:
    """Copy the acceptable `files` (shown to the user as `names`, default their own) into the uploads folder and
    ingest it; one line per file."""
    s = index.settings
    folder = Path(s.index_dir) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    result, accepted = UploadResult(), []
    limit = s.max_file_mb * 1_000_000
    for i, path in enumerate(files):
        name = safe_name(names[i] if names and i < len(names) else Path(path).name)
        info = Path(path).lstat()
        if i >= s.max_upload_files:
            result.rejected.append((name, f"more than {s.max_upload_files} files in one upload: send it again"))
        elif Path(name).suffix.lower() not in SUPPORTED_EXTENSIONS:
            result.rejected.append((name, f"not a supported type (use {', '.join(SUPPORTED_EXTENSIONS)})"))
        elif not stat.S_ISREG(info.st_mode):
            result.rejected.append((name, "not a regular file"))
        elif info.st_size > limit:
            result.rejected.append((name, f"too large ({info.st_size / 1e6:.1f} MB > {s.max_file_mb:g} MB)"))
        else:
            shutil.copyfile(path, folder / name, follow_symlinks=False)
            accepted.append(name)
    if accepted:
        report = index.ingest(folder, progress=False, id_prefix=f"{UPLOADS}/")
        failed = {f.path for f in report.failed}
        for f in report.failed:
            (folder / Path(f.path).name).unlink(missing_ok=True)  # do not keep what cannot be read
            result.rejected.append((Path(f.path).name, f.error))
        result.ingested += [d for d in report.added + report.updated if d not in failed]
        result.ingested += [f"{UPLOADS}/{n}" for n in accepted
                            if f"{UPLOADS}/{n}" in report.unchanged and f"{UPLOADS}/{n}" not in result.ingested]
    return result


def remove_document(index: Index, document_id: str | None) -> str:
    if not document_id:
        return "Choose a document to remove."
    upload = Path(index.settings.index_dir) / UPLOADS / safe_name(document_id)
    if document_id == f"{UPLOADS}/{upload.name}" and upload.is_file():
        upload.unlink()
    if not index.remove(document_id):
        return f"{document_id} is not in the index."
    note = "" if document_id.startswith(f"{UPLOADS}/") else (
        " (it is in the corpus folder: delete the file there too, or the next start ingests it again)"
    )
    return f"Removed {document_id}{note}."
