"""Protocol tests of the Blink API client, against real loopback sockets."""
