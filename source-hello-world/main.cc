#include "libs/connector/main.h"

#include "source-hello-world/hello_world.h"

int main(int argc, char** argv) {
  connectors::hello_world::HelloWorldDriver driver;
  return connectors::runtime::RunCaptureConnector(argc, argv, driver);
}
