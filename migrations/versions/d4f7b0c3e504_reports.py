"""reports and jobs: export runs, download log, job runs

Revision ID: d4f7b0c3e504
Revises: c3e6a9b2d403
Create Date: 2026-11-23 09:10:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'd4f7b0c3e504'
down_revision = 'c3e6a9b2d403'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=60), nullable=False),
        sa.Column("minute", sa.String(length=60), nullable=False),
        sa.Column("hour", sa.String(length=60), nullable=False),
        sa.Column("day", sa.String(length=60), nullable=False),
        sa.Column("month", sa.String(length=60), nullable=False),
        sa.Column("day_of_week", sa.String(length=60), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("run_requested_at", billing.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_schedule")),
        sa.UniqueConstraint("job_id", name=op.f("uq_job_schedule_job_id")),
    )
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=60), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("started_at", billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", billing.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum("running", "succeeded", "failed", "skipped", name="jobrunstatus", native_enum=False,
                    create_constraint=True, length=9),
            nullable=False,
        ),
        sa.Column("summary", sa.String(length=2000), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("host", sa.String(length=120), nullable=False),
        sa.CheckConstraint("finished_at IS NULL OR finished_at >= started_at",
                           name=op.f("ck_job_run_finished_after_start")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    op.create_index("ix_job_run_job_started", "job_run", ["job_id", "started_at"], unique=False)
    op.create_table(
        "export_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report", sa.String(length=60), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "finished", "failed", name="exportstatus", native_enum=False,
                    create_constraint=True, length=8),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=254), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", billing.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", billing.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rows_expected", sa.Integer(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.CheckConstraint("status != 'finished' OR file_name IS NOT NULL", name=op.f("ck_export_run_finished_has_file")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_export_run_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_run")),
    )
    op.create_index("ix_export_run_status", "export_run", ["status", "id"], unique=False)
    op.create_index(op.f("ix_export_run_user_id"), "export_run", ["user_id"], unique=False)
    op.create_table(
        "report_download",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("report", sa.String(length=60), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("export_run_id", sa.Integer(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["export_run_id"], ["export_run.id"],
                                name=op.f("fk_report_download_export_run_id_export_run")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_report_download_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_download")),
    )
    op.create_index(op.f("ix_report_download_at"), "report_download", ["at"], unique=False)
    op.create_index(op.f("ix_report_download_export_run_id"), "report_download", ["export_run_id"], unique=False)
    op.create_index(op.f("ix_report_download_user_id"), "report_download", ["user_id"], unique=False)
    op.create_table(
        "response_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("imported", "duplicate", "refused", name="responseimportstatus", native_enum=False,
                    create_constraint=True, length=9),
            nullable=False,
        ),
        sa.Column("summary", sa.String(length=2000), nullable=False),
        sa.Column("at", billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["clearinghouse_response.id"],
                                name=op.f("fk_response_import_response_id_clearinghouse_response")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_import")),
        sa.UniqueConstraint("response_id", name=op.f("uq_response_import_response_id")),
    )
    # APScheduler's job store (SQLAlchemyJobStore), created here rather than by the scheduler on first start.
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.String(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    op.create_index(op.f("ix_apscheduler_jobs_next_run_time"), "apscheduler_jobs", ["next_run_time"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_apscheduler_jobs_next_run_time"), table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")
    op.drop_table("response_import")
    op.drop_index(op.f("ix_report_download_user_id"), table_name="report_download")
    op.drop_index(op.f("ix_report_download_export_run_id"), table_name="report_download")
    op.drop_index(op.f("ix_report_download_at"), table_name="report_download")
    op.drop_table("report_download")
    op.drop_index(op.f("ix_export_run_user_id"), table_name="export_run")
    op.drop_index("ix_export_run_status", table_name="export_run")
    op.drop_table("export_run")
    op.drop_index("ix_job_run_job_started", table_name="job_run")
    op.drop_table("job_run")
    op.drop_table("job_schedule")
