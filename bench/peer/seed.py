"""Creates the benchmark's user: `python manage.py shell < seed.py` (USERNAME, PASSWORD, EMAIL)."""
import os

from django.contrib.auth.models import User

User.objects.create_user(os.environ["BENCH_USER"], os.environ["BENCH_EMAIL"], os.environ["BENCH_PASSWORD"])
