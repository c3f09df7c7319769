"""Regenerates django_password_validation.json: what Django's own validators answer.

Run with Django installed (any 5.x): python make_validation_vectors.py > django_password_validation.json
The Rust tests (tests/django_validation.rs) must give the same messages for every case.
"""
import json
import sys

import django
from django.conf import settings

settings.configure(USE_I18N=False, INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"])
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.contrib.auth.password_validation import (  # noqa: E402
    CommonPasswordValidator,
    MinimumLengthValidator,
    NumericPasswordValidator,
    UserAttributeSimilarityValidator,
    validate_password,
)
from django.core.exceptions import ValidationError  # noqa: E402

USERS = {
    "none": None,
    "testclient": dict(username="testclient", first_name="Test", last_name="Client", email="testclient@example.com"),
    "alice": dict(username="alice", first_name="Alice", last_name="Liddell", email="alice.liddell@wonder.land"),
    "unicode": dict(username="jürgen_müller", first_name="Jürgen", last_name="Müller-Lüdenscheidt", email="j.mueller@beispiel.de"),
    "blank": dict(username="x", first_name="", last_name="", email=""),
    "punct": dict(username="-a-", first_name="__", last_name="", email="-@-"),
}

CONFIGS = {
    "default": [
        UserAttributeSimilarityValidator(),
        MinimumLengthValidator(),
        CommonPasswordValidator(),
        NumericPasswordValidator(),
    ],
    "min_length_1": [MinimumLengthValidator(min_length=1)],
    "min_length_12": [MinimumLengthValidator(min_length=12)],
    "first_name_0.3": [UserAttributeSimilarityValidator(user_attributes=["first_name"], max_similarity=0.3)],
    "first_name_1": [UserAttributeSimilarityValidator(user_attributes=["first_name"], max_similarity=1)],
    "similarity_0.5": [UserAttributeSimilarityValidator(max_similarity=0.5)],
}

PASSWORDS = [
    "", " ", "a", "1234567", "12345678", "123456789", "٣٤٥٦٧٨٩٠١", "²³⁴⁵⁶⁷⁸⁹", "½½½½½½½½",
    "password", "PASSWORD", " Password ", "qwerty", "iloveyou", "letmein1", "correct horse battery staple",
    "testclient", "TESTCLIENT", "testclient1", "example.com", "Test", "test", "client", "tneilctset",
    "clienttest9", "test_client" * 3, "t" * 100, "x" * 7, "alice", "alice.liddell", "liddell!!", "Liddell2024",
    "wonderland", "wonder.land", "alicealice", "jürgen", "JÜRGEN", "müller", "lüdenscheidt", "beispiel",
    "mueller", "j.mueller@beispiel.de", "-a-", "__", "a-b-c-d-e", "zzzzzzzzzz", "Tr0ub4dor&3", "x7#k2!pQ9@vL",
    "ÅÅÅÅÅÅÅÅ", "ß" * 8, "ǅǅǅǅǅǅǅǅ", "İstanbul", "ΣΑΣ", "日本語のパスワード",
]

cases = []
for config_name, validators in CONFIGS.items():
    for user_name, attrs in USERS.items():
        user = User(**attrs) if attrs else None
        for password in PASSWORDS:
            try:
                validate_password(password, user, validators)
                messages = []
            except ValidationError as e:
                messages = e.messages
            cases.append(dict(config=config_name, user=user_name, password=password, messages=messages))

# One case per line, so that a regeneration diffs readably.
head = dict(django=django.get_version(), python=sys.version.split()[0], users=USERS)
print(json.dumps(head, ensure_ascii=False)[:-1] + ', "cases": [')
print(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
print("]}")
