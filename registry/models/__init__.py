"""The registry's typed models, one module per area; all share `Base.metadata`, which the
migrations are compared against."""

from registry.models.city import City, CouncilDistrict, DepartmentAlias, ParcelIdFormat
from registry.models.core import (
    NAMING_CONVENTION,
    ApiToken,
    AuditEvent,
    Base,
    Building,
    Department,
    LoginThrottle,
    Money,
    Parcel,
    User,
    UserSession,
    VersionedMixin,
)
from registry.models.imports import ImportBatch, ImportProblem
from registry.models.leases import IncrementalBorrowingRate, Lease, LeaseModification
from registry.models.operations import KpiSnapshot, Milestone, Occupancy, OmCost

__all__ = [
    "NAMING_CONVENTION",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Building",
    "City",
    "CouncilDistrict",
    "Department",
    "DepartmentAlias",
    "ImportBatch",
    "ImportProblem",
    "IncrementalBorrowingRate",
    "KpiSnapshot",
    "Lease",
    "LeaseModification",
    "LoginThrottle",
    "Milestone",
    "Money",
    "Occupancy",
    "OmCost",
    "Parcel",
    "ParcelIdFormat",
    "User",
    "UserSession",
    "VersionedMixin",
]
