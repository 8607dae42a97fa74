// A consumer of dsenv as another team's repository holds it: no replace directive. Pin the
// dsenv release you adopt; dsenv's CI (tests/consumer) rewrites this requirement to the
// version it has just packed and serves through a file:// GOPROXY.
module example.com/gateway

go 1.26.0

require github.com/dsenv/dsenv v0.1.0
