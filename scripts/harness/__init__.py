"""What the tests, `make bench` and `make loadtest` share: one loopback image server
(`image_server`), the service run as a child process (`served`), and bounded waits
(`waiting`)."""
