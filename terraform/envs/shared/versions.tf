terraform {
  required_version = ">= 1.6"

  required_providers {
    docker = {
      source  = "kreuzwerker/docker"
      version = "~> 4.5"
    }
  }

  # State: local (terraform.tfstate next to this file) unless a backend is configured.
  # For a team, use a locking backend; see README.md ("State and locking"). Example:
  #
  # backend "pg" {}   # conn_str from PG_CONN_STR or -backend-config, never committed
}
