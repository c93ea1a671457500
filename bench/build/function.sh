handler() {
  printf '{"statusCode": 200, "body": "hello"}'
}
