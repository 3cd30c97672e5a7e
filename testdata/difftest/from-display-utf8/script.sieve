require ["vacation"];
vacation :from "Böb Büilder <bob@example.com>" "I am away";
