# terraform/env forwards its inputs to modules/stack (whose tests cover the validation and
# what reaches the DS config) and its outputs back. Plan-time, mocked provider.
# Run: terraform init && terraform test (in terraform/env).

mock_provider "docker" {}

variables {
  name_prefix       = "dsenv-test"
  owner             = "4242@testhost"
  created           = "1795689600"
  postgres_password = "pgpw-7f3a00000000"
  redis_password    = "rdpw-9c1e00000000"
  api_token         = "tok-5d2b00000000"
}

run "defaults_are_the_stacks" {
  command = plan

  assert {
    condition = (
      yamldecode(module.stack.datastorage_config).logging.level == "info" &&
      yamldecode(module.stack.datastorage_config).startup.connectAttempts == 15 &&
      yamldecode(module.stack.datastorage_config).startup.connectInterval == "200ms"
    )
    error_message = "the root's null inputs must give the stack's defaults: ${module.stack.datastorage_config}"
  }

  assert {
    condition     = output.env_id == "dsenv-test" && output.network_name == "dsenv-test-net" && output.postgres_host == "127.0.0.1"
    error_message = "outputs must be forwarded from the stack"
  }

  assert {
    condition     = output.containers.datastorage.name == "dsenv-test-datastorage" && output.postgres_user == "datastorage"
    error_message = "containers and postgres_user must be forwarded"
  }

  assert {
    condition     = module.stack.labels == { "dsenv.env" = "dsenv-test", "dsenv.owner" = "4242@testhost", "dsenv.created" = "1795689600" }
    error_message = "a test environment carries the three dsenv labels and no dsenv.persistent"
  }
}

run "inputs_are_forwarded" {
  command = plan

  variables {
    log_level    = "warn"
    network_name = "shared-net"
    labels       = { "dsenv.persistent" = "true" }
  }

  assert {
    condition     = yamldecode(module.stack.datastorage_config).logging.level == "warn" && output.network_name == "shared-net"
    error_message = "inputs must reach the stack"
  }

  assert {
    condition     = module.stack.labels["dsenv.persistent"] == "true"
    error_message = "make up's dsenv.persistent label must reach every object"
  }
}
