module Greeting
  def self.text
    "hello"
  end
end
