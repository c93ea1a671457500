require "json"

module LambdaFunction
  class Handler
    def self.process(event:, context:)
      { statusCode: 200, body: JSON.generate(message: "hello", event: event) }
    end
  end
end
