"""PostgreSQL for `jira-sync deploy`: databases on a server you name, or a private cluster made
with the server binaries of Debian's `postgresql` package.

A private cluster lives in a directory of the deployment, listens on loopback only (and a socket
in its directory), asks a password over TCP (dlt needs one: a random one kept in the cluster's
directory, mode 0600), and is stopped with the deployment. Text sorts
bytewise (collation C), as in DuckDB, with Unicode case rules (ctype C.UTF-8) - the transforms give
DuckDB's results only with that (docs/architecture.md).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEBIAN_BINARIES = Path("/usr/lib/postgresql")


class PostgresSetupError(RuntimeError):
    """PostgreSQL could not be provided; the message says what to install or pass."""


def debian_binaries() -> Path:
    """The newest `/usr/lib/postgresql/<major>/bin` that has initdb and pg_ctl."""
    found = sorted(
        (p for p in DEBIAN_BINARIES.glob("*/bin") if (p / "initdb").exists() and (p / "pg_ctl").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise PostgresSetupError(
            "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: install Debian's package "
            "(apt-get install postgresql), or pass --postgres-url postgresql://user:password@host:port/db "
            "of a role that may create databases"
        )
    return found[-1]


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def end_client_sessions(cursor, database: str) -> None:
    """End the client sessions still on `database` before it is dropped. Client backends only: an
    autovacuum worker there is a superuser process a non-superuser role may not signal (and DROP
    DATABASE stops it by itself)."""
    cursor.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        [database],
    )


def create_database(admin_url: str, name: str) -> str:
    """Drop and create database `name` (collation C, ctype C.UTF-8 when the server has it); its URL."""
    import psycopg2

    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    try:
        cursor = connection.cursor()
        end_client_sessions(cursor, name)
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        try:
            cursor.execute(
                f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'"
            )
        except psycopg2.errors.InvalidParameterValue:
            cursor.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C'")
    except psycopg2.Error as exc:
        raise PostgresSetupError(f"cannot create database {name}: {str(exc).strip()}") from None
    finally:
        connection.close()
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    import psycopg2

    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    try:
        cursor = connection.cursor()
        end_client_sessions(cursor, name)
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        connection.close()


@dataclass
class PrivateCluster:
    """A PostgreSQL cluster of the deployment's own, started with Debian's binaries.

    As root (PostgreSQL refuses to run as root) the server runs as the `postgres` user Debian's
    package creates, through `runuser`.
    """

    directory: Path
    port: int
    user: str = "jira_sync"

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def password_file(self) -> Path:
        return self.directory / "password"

    @property
    def admin_url(self) -> str:
        password = self.password_file.read_text().strip()
        return f"postgresql://{self.user}:{password}@127.0.0.1:{self.port}/postgres"

    def _as_server_user(self, command: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return command
        if shutil.which("runuser") is None:
            raise PostgresSetupError(
                "running as root needs runuser (util-linux) to start PostgreSQL as postgres"
            )
        return ["runuser", "-u", "postgres", "--", *command]

    def start(self) -> None:
        binaries = debian_binaries()
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24) + "\n")
            self.password_file.chmod(0o600)
        if os.geteuid() == 0:
            for path in (self.directory, self.password_file):
                shutil.chown(path, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._run(
                "initdb",
                self._as_server_user(
                    [
                        str(binaries / "initdb"),
                        "-D",
                        str(self.data),
                        "-U",
                        self.user,
                        "--auth-local=trust",
                        "--auth-host=scram-sha-256",
                        f"--pwfile={self.password_file}",
                        "--encoding=UTF8",
                        "--locale=C.UTF-8",
                        "--lc-collate=C",
                    ]
                ),
            )
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
        self._run(
            "pg_ctl start",
            self._as_server_user(
                [
                    str(binaries / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-l",
                    str(self.directory / "server.log"),
                    "-w",
                    "start",
                ]
            ),
        )
        self._wait()

    def _run(self, what: str, command: list[str]) -> None:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            hint = (
                f"; as root the server runs as postgres, which must be able to reach {self.directory} "
                "(every parent directory searchable)"
                if os.geteuid() == 0
                else ""
            )
            raise PostgresSetupError(
                f"{what} failed: {(result.stderr or result.stdout).strip()[-1500:]}{hint}"
            )

    def _wait(self, timeout: float = 30) -> None:
        import psycopg2

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.admin_url).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    log = (self.directory / "server.log").read_text(errors="replace")[-2000:]
                    raise PostgresSetupError(
                        f"the private PostgreSQL did not accept connections:\n{log}"
                    ) from None
                time.sleep(0.2)

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        subprocess.run(
            self._as_server_user(
                [str(debian_binaries() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
