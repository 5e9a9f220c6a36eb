"""Imported first by the job workers' fork server (gru_viz.app.jobs.PRELOAD), never by the server process: the
fork server and every worker forked from it run at a lower priority, so torch's import and the jobs give way to
the sessions' own clicks."""

import os

from .limits import JOB_NICE

os.nice(JOB_NICE)
