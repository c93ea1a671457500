require "json"
require_relative "lib/greeting"

module LambdaFunction
  class Handler
    def self.process(event:, context:)
      { statusCode: 200, body: JSON.generate(message: Greeting.text, event: event) }
    end
  end
end
