"""Data configuration: read and write each entity's configuration, fields, previews, config as code."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import ValidationError as PydanticValidationError

from sync_core.api import audit_log
from sync_core.api.context import AdminDep
from sync_core.api.errors import WITH_CONFLICT, ApiError, ErrorDetail, documented, upstream_error
from sync_core.api.jobs import Job
from sync_core.api.preview import both_clients, dry_run, metadata_issues, samples
from sync_core.api.routes_connection import save_config
from sync_core.api.schemas import (
    Change,
    ConfigDocument,
    ConfigIssueOut,
    ConfigUpdate,
    ConfigView,
    DataConfig,
    EntityParam,
    FieldInfo,
    FieldsView,
    ImportRequest,
    ImportResult,
    JobView,
    PreviewCounts,
    PreviewSample,
)
from sync_core.api.vocabulary import VocabularyView, vocabulary
from sync_core.engine import validation as v
from sync_core.model import errors as model
from sync_core.model.config import ConnectionConfig, to_document

router = APIRouter(tags=["configuration"])
ERRORS = documented(*WITH_CONFLICT)
PREVIEW_TIME_BUDGET = 600.0


def data_config(config: ConnectionConfig) -> DataConfig:
    return DataConfig(entities=config.entities.model_copy(deep=True), push=config.push.model_copy(deep=True),
                      consent=config.consent.model_copy(deep=True),
                      create_requests=config.create_requests.model_copy(deep=True))


def with_data(config: ConnectionConfig, data: DataConfig, frequency: str | None = None) -> ConnectionConfig:
    """The connection with ``data`` applied, validated as one document (pydantic's rules)."""
    doc = to_document(config)
    doc["entities"] = data.entities.model_dump(mode="json")
    doc["push"] = data.push.model_dump(mode="json")
    doc["consent"] = data.consent.model_dump(mode="json")
    doc["create_requests"] = data.create_requests.model_dump(mode="json")
    if frequency is not None:
        doc["sync"]["frequency"] = frequency
    try:
        return ConnectionConfig.model_validate(doc)
    except PydanticValidationError as e:  # the parts are valid alone but not together
        issues = [ErrorDetail(code="invalid", message=str(x.get("msg")), field=_field_of(x)) for x in e.errors()]
        raise ApiError(422, "invalid_config", issues[0].message if issues else "invalid configuration",
                       field=issues[0].field if issues else None, issues=issues) from None


_NAMED = re.compile(r"^Value error, ([a-z_]+(?:\.[a-z_]+)+):")


def _field_of(error: Any) -> str:
    """The field an error is about: its location, or for a rule across parts the path its message names."""
    loc = ".".join(map(str, error.get("loc", ())))
    named = _NAMED.match(str(error.get("msg", "")))
    return loc or (named.group(1) if named else "")


def changes_between(before: ConnectionConfig, after: ConnectionConfig) -> list[Change]:
    return [Change(path=p, before=b, after=a) for p, b, a in audit_log.diff(to_document(before), to_document(after))]


def refuse(issues: list[ConfigIssueOut]) -> ApiError:
    details = [ErrorDetail(code="invalid_config", message=i.message, field=i.field) for i in issues]
    return ApiError(422, "invalid_config", issues[0].message, field=issues[0].field, issues=details)


@router.get("/api/connections/{connection_id}/config", response_model=ConfigView, responses=ERRORS,
            summary="What syncs and how fields map")
async def get_config(a: AdminDep) -> ConfigView:
    return ConfigView(connection_id=a.config.connection_id, etag=a.etag, config=data_config(a.config))


@router.put("/api/connections/{connection_id}/config", response_model=ConfigView, responses=ERRORS,
            summary="Save the data configuration (validated against both systems' metadata)")
async def put_config(a: AdminDep, body: ConfigUpdate) -> ConfigView:
    candidate = with_data(a.config, body.config)
    issues = await metadata_issues(a.ctx, candidate)
    if issues:
        raise refuse(issues)
    etag = await save_config(a.runtime, candidate, body.etag or a.etag)
    await audit_log.record(a.runtime, a.config.connection_id, a.caller, "update_config",
                           before=data_config(a.config).model_dump(mode="json"),
                           after=body.config.model_dump(mode="json"))
    return ConfigView(connection_id=candidate.connection_id, etag=etag, config=data_config(candidate))


@router.get("/api/connections/{connection_id}/fields/{entity}", response_model=FieldsView, responses=ERRORS,
            summary="Both sides' fields with their types; with `field`, its compatible candidates")
async def fields(a: AdminDep, entity: EntityParam,
                 field: Annotated[str | None, Query(max_length=200)] = None) -> FieldsView:
    try:
        async with both_clients(a.ctx, a.config) as (ac, dv):
            meta = await dv.entity_metadata(entity)
            acf = await v.ac_fields(ac, entity) if entity != "opportunity" else {}
    except model.SyncError as e:
        raise upstream_error(e, e.service or "upstream") from None
    required = v.required_columns(meta)
    dyn = [FieldInfo(name=x.logical_name, type=x.type_name, required=x.logical_name in required,
                     options=[f"{k}:{t}" for k, t in sorted(x.options.items())] if x.options else None)
           for x in sorted(meta.attributes.values(), key=lambda x: x.logical_name)]
    acl = [FieldInfo(name=f.key, type=f.type, label=f.title, options=f.options or None) for f in acf.values()]
    candidates: list[str] | None = None
    if field is not None:
        if field in meta.attributes:
            candidates = v.candidates_for_dynamics(meta.attributes[field].type_name, acf)
        elif field in acf:
            candidates = v.candidates_for_ac(acf[field].type, meta)
        else:
            raise ApiError(404, "field_not_found", f"{entity} has no field {field} on either side", field="field")
    return FieldsView(entity=entity, dynamics=dyn, activecampaign=acl, field=field, candidates=candidates)


@router.get("/api/connections/{connection_id}/vocabulary", response_model=VocabularyView, responses=ERRORS,
            summary="The operators criteria offer per column type and each entity's standard mappings")
async def get_vocabulary(_: AdminDep) -> VocabularyView:
    return vocabulary()


def job_view(job: Job, clock_mono: float) -> JobView:
    r = job.result
    return JobView(
        job_id=job.job_id, kind="preview", status=job.status,
        started_at=job.started_at, finished_at=job.finished_at,
        elapsed_seconds=round(max(0.0, clock_mono - job.started_mono), 3), progress=job.progress,
        changes=r.get("changes", []), issues=r.get("issues", []),
        counts=[PreviewCounts(entity=e, counts=c) for e, c in sorted(r.get("counts", {}).items())],
        samples=[PreviewSample.model_validate(x) for x in r.get("samples", [])],
        api_calls=r.get("api_calls", {}), message=job.message or r.get("message"))


@router.post("/api/connections/{connection_id}/config/preview", response_model=JobView,
             responses={**ERRORS, 202: {"model": JobView, "description": "Still running: poll the job"}},
             summary="Dry run of a changed configuration: what would be created, updated, skipped")
async def preview(a: AdminDep, body: ConfigUpdate, response: Response) -> JobView:
    candidate = with_data(a.config, body.config)
    changes = changes_between(a.config, candidate)
    rt, ctx = a.runtime, a.ctx

    async def run(job: Job) -> dict[str, Any]:
        job.progress = "validating against both systems' metadata"
        issues = await metadata_issues(ctx, candidate)
        out: dict[str, Any] = {"changes": changes, "issues": issues}
        if issues:
            return out
        job.progress = "reading both systems (dry run: nothing is written)"
        out.update(await dry_run(ctx, rt, candidate, PREVIEW_TIME_BUDGET))
        job.progress = "picking sample records"
        out["samples"] = await samples(ctx, rt, candidate)
        return out

    job = ctx.jobs.start(a.config.connection_id, "preview", run, rt.clock)
    await ctx.jobs.wait(job, ctx.preview_wait_seconds)
    if job.status == "failed" and isinstance(job.error, ApiError):
        raise job.error
    if job.status == "failed" and isinstance(job.error, model.SyncError):
        raise job.error
    if job.status == "running":
        response.status_code = 202
    return job_view(job, rt.clock.monotonic())


@router.get("/api/connections/{connection_id}/jobs/{job_id}", response_model=JobView, responses=ERRORS,
            summary="A preview job's progress and, when done, its result")
async def get_job(a: AdminDep, job_id: str) -> JobView:
    job = a.ctx.jobs.get(a.config.connection_id, job_id)
    if job is None:
        raise ApiError(404, "job_not_found", "no such job (jobs are kept an hour, in the instance that ran them)")
    return job_view(job, a.runtime.clock.monotonic())


@router.get("/api/connections/{connection_id}/export", response_model=ConfigDocument, responses=ERRORS,
            summary="The whole configuration as a document (no secrets, no connection identity)")
async def export_config(a: AdminDep) -> ConfigDocument:
    return ConfigDocument(entities=a.config.entities, push=a.config.push, consent=a.config.consent,
                          create_requests=a.config.create_requests, frequency=a.config.sync.frequency)


@router.post("/api/connections/{connection_id}/import", response_model=ImportResult, responses=ERRORS,
             summary="Apply an exported document, validated as one change; apply=false shows the difference")
async def import_config(a: AdminDep, body: ImportRequest) -> ImportResult:
    doc = body.document
    candidate = with_data(a.config, DataConfig(entities=doc.entities, push=doc.push, consent=doc.consent,
                                                    create_requests=doc.create_requests),
                           frequency=doc.frequency)
    changes = changes_between(a.config, candidate)
    issues = await metadata_issues(a.ctx, candidate)
    if not body.apply or issues:
        return ImportResult(applied=False, changes=changes, issues=issues)
    etag = await save_config(a.runtime, candidate, body.etag or a.etag)
    await audit_log.record(a.runtime, a.config.connection_id, a.caller, "import_config",
                           before=to_document(a.config), after=to_document(candidate))
    return ImportResult(applied=True, changes=changes, issues=[], etag=etag)
