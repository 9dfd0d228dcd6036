"""The registry's typed models, one module per area; all share `Base.metadata`, which the
migrations are compared against."""

from registry.models.city import City
from registry.models.city import CouncilDistrict
from registry.models.city import DepartmentAlias
from registry.models.city import ParcelIdFormat
from registry.models.core import NAMING_CONVENTION
from registry.models.core import ApiToken
from registry.models.core import AuditEvent
from registry.models.core import Base
from registry.models.core import Building
from registry.models.core import Department
from registry.models.core import LoginThrottle
from registry.models.core import Money
from registry.models.core import Parcel
from registry.models.core import User
from registry.models.core import UserSession
from registry.models.core import VersionedMixin
from registry.models.files import StoredFile
from registry.models.imports import ImportBatch
from registry.models.imports import ImportProblem
from registry.models.kpi_caches import ParcelOverlap
from registry.models.kpi_caches import ParcelOverlapStale
from registry.models.kpi_caches import ParcelVerificationEvent
from registry.models.lease_schedules import LeaseMeasurement
from registry.models.lease_schedules import LeaseRentPeriod
from registry.models.lease_schedules import LeaseScheduleRow
from registry.models.leases import IncrementalBorrowingRate
from registry.models.leases import Lease
from registry.models.leases import LeaseDocument
from registry.models.leases import LeaseModification
from registry.models.leases import LeaseNotice
from registry.models.leases import LeaseResponsible
from registry.models.lineage import ParcelLineage
from registry.models.operations import ExportJob
from registry.models.operations import FindingReview
from registry.models.operations import KpiSnapshot
from registry.models.operations import Milestone
from registry.models.operations import Occupancy
from registry.models.operations import OmCost

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
    "ExportJob",
    "FindingReview",
    "ImportBatch",
    "ImportProblem",
    "IncrementalBorrowingRate",
    "KpiSnapshot",
    "Lease",
    "LeaseDocument",
    "LeaseMeasurement",
    "LeaseModification",
    "LeaseNotice",
    "LeaseRentPeriod",
    "LeaseResponsible",
    "LeaseScheduleRow",
    "LoginThrottle",
    "Milestone",
    "Money",
    "Occupancy",
    "OmCost",
    "Parcel",
    "ParcelIdFormat",
    "ParcelLineage",
    "ParcelOverlap",
    "ParcelOverlapStale",
    "ParcelVerificationEvent",
    "StoredFile",
    "User",
    "UserSession",
    "VersionedMixin",
]
