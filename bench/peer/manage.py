#!/usr/bin/env python3
"""Django's manage.py for the benchmark's reference peer (bench/run sets it up and runs it)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
