# Plan-time checks of the network module with a mocked provider (no Docker daemon).

mock_provider "docker" {}

run "labelled_bridge_network" {
  command = plan

  variables {
    name   = "t-net"
    labels = { "dsenv.env" = "t", "dsenv.owner" = "1@h", "dsenv.created" = "1" }
  }

  assert {
    condition     = docker_network.this.name == "t-net" && docker_network.this.driver == "bridge"
    error_message = "a bridge network named after the input"
  }

  assert {
    condition     = length(docker_network.this.labels) == 3 && contains([for l in docker_network.this.labels : "${l.label}=${l.value}"], "dsenv.owner=1@h")
    error_message = "the network must carry the labels"
  }
}

run "bad_name" {
  command = plan
  variables {
    name = "-net"
  }
  expect_failures = [var.name]
}
