#include "libs/connector/main.h"

#include "materialize-postgres/driver.h"

int main(int argc, char** argv) {
  connectors::postgres::PostgresDriver driver;
  return connectors::runtime::RunMaterializeConnector(argc, argv, driver);
}
