"""Files kept beside the database (signed leases, amendments), stored once by their content."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CHAR
from sqlalchemy import BigInteger
from sqlalchemy import CheckConstraint
from sqlalchemy import DateTime
from sqlalchemy import Text
from sqlalchemy import func
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from registry.models.core import Base
from registry.models.core import non_negative


class StoredFile(Base):
    """A file under the document folder, named by its SHA-256 (see `registry.stored_files`).

    Records that keep a file refer to this row; the backup copies the files these rows list."""

    __tablename__ = "stored_files"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256"),
        non_negative("size_bytes"),
    )

    sha256: Mapped[str] = mapped_column(CHAR(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
