"""One table of Okta logins and the KubeSphere username each must become (None: refused).

Drives both ``usernames.dns_safe_username`` and the Okta expression (tests/okta_expression.py).
"""

LONG_LOCAL = "firstname.middlename.lastname.with.many.parts"  # 45 characters

LOGINS: list[tuple[str, str | None]] = [
    ("jane.doe@acme.com", "jane.doe.acme.com"),
    ("Jane.Doe@Acme.COM", "jane.doe.acme.com"),
    ("jane_doe@acme.com", "jane-doe.acme.com"),
    ("o'brien@acme.com", "o-brien.acme.com"),
    ("a&b=c~d#e%f!g@acme.com", "a-b-c-d-e-f-g.acme.com"),
    ("first last@acme.com", "first-last.acme.com"),
    ("j`d/x@acme.com", "j-d-x.acme.com"),
    ("jane@sub.acme.co.uk", "jane.sub.acme.co.uk"),
    ("007@acme.com", "007.acme.com"),
    ("jane@localhost", "jane.localhost"),
    # Long logins keep their first 63 characters.
    (f"{LONG_LOCAL}@subsidiary.example.com", f"{LONG_LOCAL}.subsidiary.exampl"),
    # Truncation that ends on '.' or '-' is refused, not trimmed (Okta could not trim it).
    (f"{LONG_LOCAL}@subsidiaryexampl.com", None),
    ("a" * 62 + "_@acme.com", None),
    # Refused: no '@' (could equal a local account), regex characters, label edges, non-ASCII.
    ("admin", None),
    ("Admin", None),
    ("a" * 70 + "@acme.com", None),
    ("jane+ops@acme.com", None),
    ("jane$doe@acme.com", None),
    ("jane*@acme.com", None),
    ("{jane}@acme.com", None),
    ("jane|doe@acme.com", None),
    ("_jane@acme.com", None),
    ("jane_@acme.com", None),
    ("jane.@acme.com", None),
    ("jane..doe@acme.com", None),
    ("@acme.com", None),
    ("jane@", None),
    ("josé@acme.com", None),
    ("jane\t@acme.com", None),
    ("", None),
]
