# Plan-time check of the shared environment with a mocked provider (no Docker daemon).

mock_provider "docker" {}

variables {
  owner             = "manual@teamhost"
  created           = "1795689600"
  postgres_password = "pgpw-7f3a"
  redis_password    = "rdpw-9c1e"
  api_token         = "tok-5d2b"
}

run "durable_and_persistent" {
  command = plan

  assert {
    condition     = module.env.containers.postgres.name == "dsenv-shared-postgres"
    error_message = "the shared environment is named dsenv-shared"
  }

  assert {
    condition     = output.env_id == "dsenv-shared"
    error_message = "env_id follows name_prefix"
  }
}
