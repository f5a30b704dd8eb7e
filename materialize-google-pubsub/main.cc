#include "libs/connector/main.h"

#include "materialize-google-pubsub/driver.h"

int main(int argc, char** argv) {
  connectors::pubsub::PubsubDriver driver;
  return connectors::runtime::RunMaterializeConnector(argc, argv, driver);
}
