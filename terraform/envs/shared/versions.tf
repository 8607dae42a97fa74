terraform {
  required_version = ">= 1.6"

  required_providers {
    docker = {
      source  = "kreuzwerker/docker"
      version = "~> 4.5"
    }
  }

  # State: the pg backend (a PostgreSQL of its own, not this environment's). Its settings
  # never live here: PG_CONN_STR (and PGPASSWORD) in the environment or a git-ignored 0600
  # file given to `terraform init -backend-config=FILE`; see README.md ("State and locking").
  # Trying it on one machine without a database: a git-ignored backend_override.tf holding
  # terraform { backend "local" {} }.
  backend "pg" {}
}
