// Package images checks the locally built dsenv images against real containers: the
// Postgres image's environment contract and the Redis image's password handling. They
// need `make setup` to have built the images; a missing image fails the test.
package images
