"""`create_app()`: routes, lifespan, dependencies, error handlers and OpenAPI in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import structlog
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from service import __version__
from service.config import Settings, load_settings
from service.http import health, images, metrics, thumbs
from service.http.auth import api_key_guard
from service.http.body_timeout import body_timeout_middleware
from service.http.docs import OPENAPI_PATH, swagger_asset, swagger_ui
from service.http.errors import EXCEPTION_HANDLERS
from service.http.request_id import request_id_middleware
from service.logs import configure_logging
from service.services import Services, open_services

log = structlog.get_logger(__name__)

# Background parts of a feature (the job worker, say): opened after the services, closed first.
Component = Callable[[Services], AbstractAsyncContextManager[Any]]


def _route_handlers() -> list[Any]:
    from service.catalog.http import ProductController, SnapshotController
    from service.jobs.handlers import ROUTES as JOB_ROUTES
    from service.lead.http import ROUTES as LEAD_ROUTES
    from service.lead.page import ROUTES as LEAD_PAGE_ROUTES
    from service.qa.http import QAController
    from service.qa.page import ROUTES as QA_PAGE_ROUTES
    from service.similarity.http.routes import ROUTES as SIMILARITY_ROUTES

    return [
        health.healthz, health.readyz, images.get_image, thumbs.get_thumbnail, metrics.metrics,
        swagger_asset, ProductController, QAController,
        # One router: a lead's PATCH shares its path with the catalog's GET (Litestar takes
        # handlers of one path from separate controllers only through a common router).
        Router(path="/", route_handlers=[SnapshotController, *LEAD_ROUTES]),
        *JOB_ROUTES,
        *QA_PAGE_ROUTES,
        *SIMILARITY_ROUTES,
        *LEAD_PAGE_ROUTES,
    ]  # fmt: skip


def _components(settings: Settings) -> list[Component]:
    from service.jobs.worker import job_worker
    from service.qa.sweeper import qa_sweeper
    from service.similarity.background.worker import similarity_component

    return [qa_sweeper, similarity_component, *([job_worker] if settings.worker_enabled else [])]


def _services(state: State) -> Services:
    return state.services


def create_app(
    settings: Settings | None = None, *, configure_logs: bool = True, primary: bool = True
) -> Litestar:
    """The app. `primary`: this process runs the background upkeep (one per service; see
    `service.supervisor`)."""
    settings = settings or load_settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            services = await stack.enter_async_context(open_services(settings, primary=primary))
            app.state.services = services
            for component in _components(settings):
                await stack.enter_async_context(component(services))
            log.info("service started", database=settings.dialect, version=__version__)
            yield

    return Litestar(
        route_handlers=_route_handlers(),
        lifespan=[lifespan],
        dependencies={"services": Provide(_services, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[
            request_id_middleware,
            body_timeout_middleware(settings.body_timeout),
            metrics.PROMETHEUS.middleware,
        ],
        guards=[api_key_guard(settings.api_keys)] if settings.api_keys else [],
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(allow_origins=["*"], allow_headers=["*"]),
        openapi_config=OpenAPIConfig(
            title="Retail Pulse",
            version=__version__,
            description="Store-visit image jobs, QA data cleaning and image similarity.",
            path=OPENAPI_PATH,
            render_plugins=[swagger_ui()],
            use_handler_docstrings=True,
        ),
        state=State({"settings": settings}),
        logging_config=None,  # structlog (service.logs) owns logging
        debug=False,
    )
