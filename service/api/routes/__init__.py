"""One router per resource; ``api_router`` holds them all."""

from fastapi import APIRouter

from service.api.routes import (
    audit,
    blackouts,
    dashboard,
    events,
    experts,
    health,
    matching,
    municipalities,
    plan_jobs,
    requests,
    slots,
    timeline,
    visits,
)

__all__ = ["api_router"]

api_router = APIRouter()
for _module in (health, municipalities, experts, requests, slots, plan_jobs, blackouts, visits,
                matching, audit, dashboard, events, timeline):
    api_router.include_router(_module.router)
