#include "libs/connector/main.h"

#include "source-http-file/http_file.h"

int main(int argc, char** argv) {
  connectors::http_file::HttpFileDriver driver;
  return connectors::runtime::RunCaptureConnector(argc, argv, driver);
}
