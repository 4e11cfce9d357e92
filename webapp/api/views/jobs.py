"""Background jobs: a project's latest, one job's progress, and cancelling one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.api.common import project_for_request
from webapp.api.errors import READ_ERRORS
from webapp.api.serializers.jobs import JobSerializer
from webapp.jobs.models import Job
from webapp.jobs.selectors import job_visible_to
from webapp.jobs.services import job_cancel
from webapp.projects.models import Membership


@extend_schema(
    operation_id="projects_jobs_list",
    responses={200: JobSerializer(many=True), **READ_ERRORS},
    tags=["jobs"],
)
@api_view(["GET"])
def job_list(request: Request, project_id: int) -> Response:
    """The project's latest 100 jobs (admins, as on the project page)."""
    project, _ = project_for_request(request, project_id, Membership.Role.ADMIN)
    jobs = Job.objects.filter(project=project).order_by("-created_at")[:100]
    return Response(JobSerializer(jobs, many=True).data)


def _job(request: Request, job_id: int) -> Job:
    job = job_visible_to(user=request.user, job_id=job_id)
    if job is None:
        raise NotFound("No such job")
    return job


@extend_schema(responses={200: JobSerializer, **READ_ERRORS}, tags=["jobs"])
@api_view(["GET"])
def job_detail(request: Request, job_id: int) -> Response:
    """A job's status and progress; ``result.url`` is its outcome's page once it succeeded."""
    return Response(JobSerializer(_job(request, job_id)).data)


@extend_schema(request=None, responses={200: JobSerializer, **READ_ERRORS}, tags=["jobs"])
@api_view(["POST"])
def job_cancel_view(request: Request, job_id: int) -> Response:
    """Ask a job to stop (admins of its project): a queued job stops at once, a running one at
    its next progress report."""
    job = _job(request, job_id)
    if job.project_id is not None:
        project_for_request(request, job.project_id, Membership.Role.ADMIN)
    elif not request.user.is_superuser:
        raise NotFound("No such job")
    job_cancel(job=job)
    return Response(JobSerializer(job).data)
