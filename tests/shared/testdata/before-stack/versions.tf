terraform {
  required_version = ">= 1.6"

  required_providers {
    docker = {
      source  = "kreuzwerker/docker"
      version = "~> 4.5"
    }
  }

  # The one change to the code of terraform/envs/shared before modules/stack (commit
  # 2c9a6de): its state in the pg backend, as the shared environment keeps it now.
  backend "pg" {}
}
