#include "libs/connector/main.h"

#include "source-postgres/driver.h"

int main(int argc, char** argv) {
  connectors::postgres::PostgresDriver driver;
  return connectors::runtime::RunCaptureConnector(argc, argv, driver);
}
